"""Printable official documents (受理登记表, 调解协议书, 督办函, 回访记录 ...).

`zongzhi.documents.pdf` renders a plain, model-independent `Document` description to PDF
bytes with the vendored Noto Sans SC TTF subsets embedded, so Chinese prints correctly on a
server with no system CJK fonts.
"""
