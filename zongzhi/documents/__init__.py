"""Printable official documents (受理登记表, 调解协议书, 司法确认申请书, 督办函, 回访记录 ...).

`zongzhi.documents.pdf` renders a plain, model-independent `Document` description to PDF
bytes with the vendored Noto Sans SC TTF subsets embedded, so Chinese prints correctly on a
server with no system CJK fonts; `zongzhi.documents.vertical` sets a Mongolian `Document`
vertically. Importing the package registers the vertical renderer with `render_pdf`.
"""

from zongzhi.documents import vertical as vertical
