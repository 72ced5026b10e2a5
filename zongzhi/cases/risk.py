"""Suggested risk level (红/橙/黄/蓝) from explicit rules; every rule that fires gives its reason."""

from decimal import Decimal

from django.utils.translation import gettext as _

RED, ORANGE, YELLOW, BLUE = "red", "orange", "yellow", "blue"
ORDER = [BLUE, YELLOW, ORANGE, RED]

VIOLENCE = ["杀", "砍", "捅", "炸", "同归于尽", "报复", "拼命", "持刀", "放火"]
SELF_HARM = ["自杀", "轻生", "跳楼", "喝农药", "服毒", "不想活"]
GROUP_ACTION = ["集体上访", "聚集", "堵路", "围堵", "静坐", "拉横幅", "串联"]
THREAT = ["打人", "威胁", "动手", "斗殴", "殴打", "扬言"]


def suggest_risk(*, amount: Decimal | None, people_involved: int, text: str, repeats: int) -> tuple[str, list[str]]:
    """The highest level any rule reaches, with the reasons of every rule that fired."""
    hits: list[tuple[str, str]] = []
    for words, level, label in (
        (VIOLENCE, RED, _("涉及暴力倾向用语")),
        (SELF_HARM, RED, _("涉及自伤自杀用语")),
        (GROUP_ACTION, RED, _("涉及群体性行为用语")),
        (THREAT, ORANGE, _("涉及威胁或肢体冲突用语")),
    ):
        found = [w for w in words if w in text]
        if found:
            hits.append((level, f"{label}：{'、'.join(found)}"))
    if people_involved >= 30:
        hits.append((RED, _("涉及人数 %(n)d 人（≥30 人，群体性纠纷）") % {"n": people_involved}))
    elif people_involved >= 10:
        hits.append((ORANGE, _("涉及人数 %(n)d 人（≥10 人）") % {"n": people_involved}))
    elif people_involved >= 3:
        hits.append((YELLOW, _("涉及人数 %(n)d 人（≥3 人）") % {"n": people_involved}))
    if amount is not None:
        for threshold, level in ((1_000_000, RED), (200_000, ORANGE), (20_000, YELLOW)):
            if amount >= threshold:
                hits.append(
                    (level, _("涉及金额 %(a)s 元（≥%(t)s 元）") % {"a": f"{amount:,.2f}", "t": f"{threshold:,}"})
                )
                break
    if repeats >= 2:
        hits.append((ORANGE, _("同一当事人或住户近期已有 %(n)d 起纠纷（反复纠纷）") % {"n": repeats}))
    elif repeats == 1:
        hits.append((YELLOW, _("同一当事人或住户近期已有 1 起纠纷")))
    if not hits:
        return BLUE, [_("未触发风险规则")]
    level = max((h[0] for h in hits), key=ORDER.index)
    return level, [reason for _level, reason in hits]
