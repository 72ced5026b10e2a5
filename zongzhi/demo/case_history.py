"""The demo league's case history: 18 months of disputes, from the 4,600 imported ones to this week's.

Planned in memory like `plan.py` (always the whole league, one random stream per county, so
Xilinhot's cases are the same at both scales) and written like `seed.py` (bulk inserts of the cases
whose number is missing, with everything hanging off them). Each case has one consistent story:
its timeline follows the transition table with increasing versions, and its assignments, sessions,
agreement, court referrals, follow-up and supervision rows say what its events say. Late cases
carry what the deadline sweep (`cases/deadlines.py`) would have issued on the way: 提示函, 督办单,
督办函 and 上提 with a fresh deadline.

The history ends the day before it is first written. A rerun reads that day back from the stored
cases, so case numbers (`{county}{yyyymmdd}{nnnn}`) come out the same and nothing is written twice.
"""

import datetime
import functools
import heapq
import itertools
import random
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from zongzhi.accounts.models import User
from zongzhi.cases.calendar import is_workday
from zongzhi.cases.models import (
    OPEN_STATES,
    Agreement,
    Assignment,
    CalendarDay,
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    CoordinationRequest,
    CourtReferral,
    DeadlinePolicy,
    FollowUp,
    Instalment,
    MediationSession,
    Party,
    State,
    Supervision,
    SupervisionName,
)
from zongzhi.cases.risk import suggest_risk
from zongzhi.cases.workflow import TRANSITIONS
from zongzhi.centers.models import Center, Org, Room
from zongzhi.crypto import EncryptedTextField, blind_index
from zongzhi.demo import places
from zongzhi.demo.plan import XILINHOT, Plan, PRegion, allocate, build_plan
from zongzhi.identity import USCC_ALPHABET, make_resident_id, uscc_check_char
from zongzhi.regions.models import Region

IMPORTED = 4_630  # "累计导入各类矛盾纠纷事项超过4600件"
LIVE = 1_000  # registered on the platform itself, in its first three months
HISTORY_DAYS = 548  # about 18 months
LIVE_DAYS = 92  # the platform went live this many days before the history ends; older cases were imported
BATCH = 2000
SWEEP_AT = datetime.time(7, 30)  # the deadline sweep runs every morning
REPLY_DAYS = 5  # as in cases/deadlines.py
# 重大疑难 cases coordinated at the league center: county, days before the end, state reached.
LEAGUE_MAJORS: dict[str, list[tuple[int, str]]] = {
    "152527": [(34, State.IN_PROGRESS)],
    XILINHOT: [(27, State.IN_PROGRESS)],
    "152526": [(80, State.CLOSED)],
}
ALL_DEPARTMENTS = places.DEPARTMENTS_RESIDENT + places.DEPARTMENTS_ROTATING + places.DEPARTMENTS_ON_CALL
OPEN = {str(s) for s in OPEN_STATES}
S = State
K = Supervision.Kind


def _original_number(county: str, serial: int) -> str:
    """The number a case carried in the paper ledger (台账) it was imported from."""
    return f"TZ-{county}-{serial:05d}"


# ---- what disputes look like --------------------------------------------------------------------


@dataclass
class _Kind:
    """A kind of dispute: who it is usually against, how much money and how many people, its texts."""

    domain: str
    against: str  # person, employer, government, hospital, shop, property, foreigner
    amount: tuple[float, int, int]  # share with an amount, low, high (log-uniform between them)
    people: tuple[int, int]
    large: float = 0.0  # share of amounts ten times higher
    texts: list[tuple[str, str]] = field(default_factory=list)


KINDS: dict[str, _Kind] = {
    "grassland.1": _Kind("grassland", "person", (0.3, 2000, 30000), (2, 4)),
    "grassland.2": _Kind("grassland", "person", (0.85, 5000, 90000), (2, 3)),
    "grassland.3": _Kind("grassland", "person", (0.7, 1500, 25000), (2, 3)),
    "labour.1": _Kind("labour", "employer", (1.0, 3000, 60000), (1, 8), large=0.05),
    "labour.2": _Kind("labour", "employer", (1.0, 20000, 300000), (1, 2)),
    "labour.3": _Kind("labour", "employer", (0.9, 5000, 60000), (1, 3)),
    "family.1": _Kind("family", "person", (0.4, 30000, 400000), (2, 3)),
    "family.2": _Kind("family", "person", (0.6, 3000, 40000), (2, 5)),
    "family.3": _Kind("family", "person", (0.8, 50000, 600000), (3, 6)),
    "neighbour.1": _Kind("neighbour", "person", (0.3, 500, 12000), (2, 4)),
    "neighbour.2": _Kind("neighbour", "person", (0.2, 2000, 20000), (2, 3)),
    "traffic": _Kind("traffic", "person", (0.95, 2000, 80000), (2, 3), large=0.03),
    "foreign": _Kind("foreign", "foreigner", (0.9, 3000, 120000), (2, 3)),
    "property": _Kind("property", "property", (0.7, 800, 20000), (1, 12)),
    "demolition": _Kind("demolition", "government", (0.9, 60000, 900000), (1, 6), large=0.08),
    "land_acquisition": _Kind("land_acquisition", "government", (0.95, 80000, 1200000), (3, 25), large=0.04),
    "medical": _Kind("medical", "hospital", (0.95, 10000, 300000), (2, 3)),
    "consumer": _Kind("consumer", "shop", (1.0, 500, 40000), (1, 4)),
    "land_contract": _Kind("land_contract", "person", (0.7, 2000, 50000), (2, 4)),
    "other": _Kind("other", "person", (0.8, 5000, 200000), (2, 3)),
}
# category|title|description: {a} applicant, {b} respondent, {amount} yuan, {n} people, {place} township and
# village, {village}, {m} metres, {mu} mu, {k} months, {kids}, {head} animals, {goods}, {project}.
TEXTS = """
grassland.1|草场边界纠纷|{a}与{b}两户牧民因{place}草场围栏位置发生争执，{a}称对方围栏向其承包草场内推进约{m}米，要求按草原确权图重新确认边界。
grassland.1|冬营盘边界争议|{a}反映邻户{b}在冬营盘放牧时多次越过双方约定的界桩，牲畜啃食其打草场，双方多次协商未果。
grassland.1|承包草场界线重叠|{village}两户牧民承包草场界线在确权图上重叠约{mu}亩，{a}与{b}各执一词，申请调解。
grassland.1|草场围栏损毁赔偿|{b}拉运草料时车辆撞坏{a}家草场围栏约{m}米，{a}要求修复并赔偿损失{amount}元。
grassland.2|草场流转租金纠纷|{a}将{mu}亩草场流转给{b}经营，合同约定年租金{amount}元，{b}以草场退化为由拖欠租金，{a}要求支付。
grassland.2|租赁草场到期不退|{b}租赁{a}的{mu}亩草场租期已满仍继续放牧，{a}要求收回草场并支付超期使用费{amount}元。
grassland.2|草场转包纠纷|{a}称其承包草场被{b}私自转包他人，要求解除转包并返还转包收益{amount}元。
grassland.2|草场流转合同纠纷|{a}将{mu}亩草场流转给{b}经营，{b}擅自开垦种植饲草，{a}认为违反合同约定，要求解除合同。
grassland.3|休牧期越界放牧|{a}反映{b}在休牧期内将羊群赶入其草场放牧，造成草场破坏，要求赔偿草料损失{amount}元。
grassland.3|禁牧区牲畜越界|禁牧区内{b}的牛群越界进入{a}的打草场，双方因赔偿数额产生争议。
labour.1|拖欠农民工工资|{a}等{n}名农民工在{b}承建的项目务工，工程完工后被拖欠工资共计{amount}元，多次讨要未果。
labour.1|拖欠工资|{a}在{b}打工{k}个月，老板以资金周转困难为由拖欠工资{amount}元。
labour.1|牧场雇工工资纠纷|{a}受雇为{b}放牧{k}个月，约定月工资四千元，年底结算时双方对工钱和丢失羊只的扣款有争议。
labour.2|工伤赔偿纠纷|{a}在{b}工作期间受伤，住院治疗花费{amount}元，用人单位未缴纳工伤保险，双方对赔偿数额有争议。
labour.2|务工受伤赔偿|{a}在{b}的工地干活时从脚手架摔下致腿部骨折，要求赔偿医疗费、误工费共计{amount}元。
labour.3|劳动合同纠纷|{a}与{b}未签订书面劳动合同，工作{k}个月后被辞退，要求支付双倍工资差额及经济补偿{amount}元。
labour.3|社保缴纳争议|{a}在{b}工作{k}个月，单位一直未为其缴纳社会保险，{a}要求补缴并支付经济补偿。
family.1|离婚财产分割纠纷|{a}与{b}婚后感情不和，分居{k}个月，{a}提出离婚，双方对子女抚养及共同财产（牲畜{head}头只）分割存在分歧。
family.1|婚姻家庭纠纷|{a}与丈夫{b}因家庭琐事长期争吵，{a}回娘家居住，双方亲属多次协调未果，申请调解。
family.2|赡养纠纷|{a}年逾七旬，{kids}个子女对赡养费用分担意见不一，{a}申请调解，要求子女每月支付赡养费。
family.2|抚养费纠纷|{a}与前夫{b}离婚后，{b}未按约定支付子女抚养费，已累计拖欠{amount}元。
family.3|继承纠纷|{a}的父亲去世后留有{mu}亩承包草场及{head}只羊，{a}与{b}等兄弟姐妹对遗产分配产生争议。
family.3|房屋继承纠纷|{a}与{b}对已故母亲名下的一套住房如何分割意见不一，房屋估价约{amount}元。
neighbour.1|相邻排水纠纷|{a}与邻居{b}因院内排水流向对方房屋墙根发生纠纷，双方多次争吵。
neighbour.1|楼上漏水纠纷|{b}家卫生间漏水导致楼下{a}家天花板受损，{a}要求维修并赔偿损失{amount}元。
neighbour.1|采光通行纠纷|{b}加高院墙遮挡{a}家采光并占用共用通道堆放杂物，{a}申请社区调解。
neighbour.1|养犬扰民纠纷|{a}反映邻居{b}饲养的大型犬夜间吠叫并曾咬伤路人，多次劝说无效。
neighbour.2|宅基地界线纠纷|{a}与{b}因宅基地界线发生争议，{b}新建院墙占用{a}宅基地约{m}平方米。
traffic|交通事故赔偿纠纷|{a}驾车在{place}附近与{b}驾驶的货车发生碰撞，造成车辆损坏、{a}受轻伤，双方对赔偿数额{amount}元有争议。
traffic|牲畜被撞赔偿纠纷|{b}驾车在草原公路上撞死{a}家{head}只羊，双方对赔偿标准有分歧。
foreign|涉外交通事故纠纷|蒙古国籍货车司机{b}在口岸货场倒车时与{a}的车辆发生刮擦，双方语言不通，对损失赔偿{amount}元有争议。
foreign|涉外货款纠纷|{a}与蒙古国商户{b}就一批{goods}的货款{amount}元结算发生争议。
foreign|涉外租房纠纷|蒙古国籍人员{b}租住{a}的房屋，退租时双方对押金和屋内物品损坏赔偿有争议。
property|物业费纠纷|{b}以{a}拖欠物业费{amount}元为由多次催缴，{a}称小区电梯长期停运、卫生无人清扫，拒绝缴费。
property|物业服务纠纷|{a}等{n}户业主反映{b}擅自将小区公共停车位出租，收益去向不明，要求公开账目。
property|车库渗水纠纷|{a}家地下车库常年渗水，{b}以不属于维修范围为由拒不处理。
demolition|棚改补偿纠纷|{a}家房屋位于{place}棚户区改造范围内，对补偿安置方案中的面积认定有异议，要求重新评估。
demolition|拆迁安置纠纷|{a}对旧城改造项目的货币补偿{amount}元不满，要求按产权调换安置。
land_acquisition|牧区征地补偿纠纷|{place}因{project}建设征用{a}等{n}户牧民草场{mu}亩，牧民对补偿标准及分配方式有异议。
land_acquisition|征地补偿款分配纠纷|{a}等{n}户牧民对嘎查征地补偿款{amount}元的分配方案有异议，要求重新讨论。
medical|医疗纠纷|{a}在{b}就医后病情加重，认为医院存在诊疗过错，要求赔偿医疗费等{amount}元。
medical|医疗护理纠纷|{a}的母亲在{b}住院期间摔伤，家属认为护理不到位，双方对责任承担有争议。
consumer|消费纠纷|{a}在{b}购买的{goods}使用不久即出现质量问题，商家拒绝退换，涉及金额{amount}元。
consumer|预付卡消费纠纷|{b}突然停业，{a}等{n}名会员预付卡内余额共计{amount}元无法退还。
land_contract|土地承包流转纠纷|{a}与{b}因承包地{mu}亩的界线及流转费发生争议，{b}耕种后未支付流转费{amount}元。
land_contract|承包地边界纠纷|{a}与{b}两家承包地相邻，{b}耕地时越界约{m}米，双方为此多次争吵。
other|民间借贷纠纷|{a}借给{b}{amount}元用于购买牲畜，约定一年归还，到期后{b}以收入减少为由拖延不还。
other|合伙养殖纠纷|{a}与{b}合伙养殖肉牛，散伙时对{head}头牛及收益分配发生争议。
other|买卖牲畜纠纷|{a}从{b}处购买{head}只羊，交付后发现部分羊只患病死亡，要求退还货款{amount}元。
"""
for _line in TEXTS.strip().splitlines():
    _code, _title, _text = _line.split("|")
    KINDS[_code].texts.append((_title, _text))

# Category weights by the kind of place: pastoral gacha, farming village, town community.
PROFILES: dict[str, dict[str, int]] = {
    "gacha": {"grassland.1": 12, "grassland.2": 9, "grassland.3": 6, "labour.1": 8, "labour.2": 2, "labour.3": 2}
    | {"family.1": 6, "family.2": 5, "family.3": 4, "neighbour.1": 6, "neighbour.2": 4, "land_acquisition": 4}
    | {"land_contract": 2, "traffic": 5, "consumer": 2, "medical": 1, "demolition": 1, "other": 7},
    "village": {"land_contract": 12, "neighbour.1": 8, "neighbour.2": 7, "family.1": 6, "family.2": 6}
    | {"family.3": 3, "labour.1": 10, "labour.2": 3, "labour.3": 2, "grassland.1": 2, "grassland.2": 2}
    | {"traffic": 6, "consumer": 3, "medical": 2, "demolition": 3, "land_acquisition": 2, "other": 7},
    "community": {"property": 13, "demolition": 7, "labour.1": 10, "labour.2": 3, "labour.3": 5, "family.1": 8}
    | {"family.2": 5, "family.3": 3, "neighbour.1": 14, "traffic": 8, "consumer": 8, "medical": 4, "other": 6}
    | {"grassland.2": 1},
}

# Lead orgs per domain: ("dept", department name) | ("mc",) | ("brand",) | ("team",), with weights.
LEADS: dict[str, list[tuple[tuple[str, ...], int]]] = {
    "grassland": [(("dept", "林业和草原局"), 3), (("dept", "自然资源局"), 2), (("dept", "农牧局"), 2), (("mc",), 3)]
    + [(("brand",), 2), (("team",), 5)],
    "labour": [(("dept", "人力资源和社会保障局"), 6), (("dept", "总工会"), 1), (("mc",), 1), (("team",), 4)],
    "land_acquisition": [(("dept", "自然资源局"), 3), (("dept", "农牧局"), 1), (("dept", "信访局"), 1), (("team",), 4)],
    "demolition": [(("dept", "住房和城乡建设局"), 3), (("dept", "信访局"), 1), (("team",), 4)],
    "family": [(("dept", "妇女联合会"), 3), (("dept", "民政局"), 1), (("brand",), 3), (("mc",), 2)]
    + [(("dept", "司法局"), 2), (("team",), 4)],
    "neighbour": [(("mc",), 4), (("brand",), 2), (("dept", "司法局"), 2)],
    "traffic": [(("dept", "公安局"), 4), (("dept", "交通运输局"), 1), (("mc",), 1)],
    "foreign": [(("dept", "公安局"), 2), (("dept", "司法局"), 2), (("brand",), 1)],
    "property": [(("dept", "住房和城乡建设局"), 3), (("mc",), 2)],
    "medical": [(("dept", "卫生健康委员会"), 3), (("mc",), 1)],
    "consumer": [(("dept", "市场监督管理局"), 4)],
    "land_contract": [(("dept", "农牧局"), 3), (("dept", "自然资源局"), 1), (("mc",), 1)],
    "other": [(("dept", "司法局"), 3), (("mc",), 2), (("dept", "信访局"), 1)],
}
TOWNSHIP_LEADS = {"JS": 3.0, "MC": 3.0, "PS": 1.0}  # 司法所, 人民调解委员会, 派出所
COMPANY_WORDS = ["恒达", "瑞丰", "金岭", "宏远", "万通", "鑫盛", "蒙源", "兴盛", "安泰", "草原", "天骄", "北疆"]
INDUSTRIES = ["建筑工程", "牧业", "乳业", "肉食品加工", "劳务", "商贸", "运输", "矿业"]
GOODS = ["家电", "羊绒衫", "摩托车", "饲料", "手机", "二手汽车", "建材", "奶制品"]
PROJECTS = ["风电场", "光伏电站", "公路", "输变电线路", "水源地保护区"]
FOREIGN_NAMES = ["巴特额尔德尼", "额尔登巴雅尔", "甘巴特", "宝力德", "策仁道尔吉", "苏赫巴特尔", "纳兰格日勒"]
OTHER_ID_REGIONS = ["150102", "150203", "130725", "130723", "152201", "150404", "150921"]
PHONE_PREFIXES = ["39", "38", "35", "51", "52", "58", "87", "89", "77", "80", "47", "34"]

REJECT_REASONS = [
    "该纠纷已进入诉讼程序，依法不予受理，已告知申请人。",
    "属于信访事项，已引导申请人向信访部门反映。",
    "申请人身份信息和纠纷事实不清，经告知后未补正。",
    "不属于矛盾纠纷受理范围，已引导当事人通过其他途径解决。",
]
WITHDRAW_REASONS = ["双方已自行和解，申请人撤回申请。", "申请人已向人民法院起诉。", "申请人表示不再追究。"]
RETURN_REASONS = ["该纠纷不属于本单位职责范围，建议另行分流。", "当事人住所地不在本单位辖区，建议转属地处理。"]
FAIL_REASONS = ["双方对赔偿数额分歧过大，调解不成。", "被申请人拒绝参加调解。", "申请人坚持通过诉讼解决。"]
REOPEN_REASONS = ["当事人反映协议未按期履行，申请重新调处。", "回访中发现纠纷出现反复。"]
ESCALATE_REASONS = ["纠纷涉及多个部门职责，需上级综治中心统筹协调。", "涉及人数较多，存在矛盾激化风险，提请上级协调。"]
RESOLVE_NOTES = [
    "经调解双方当场和解，已即时履行。",
    "经释法说理，申请人理解并接受处理意见。",
    "经协调，被申请人已自行纠正。",
]
SESSION_RECORDS = [
    "双方陈述了各自诉求，调解员释法析理，申请人同意适当让步。",
    "调解员实地查看现场，组织双方对照确权图和合同核实情况。",
    "双方分歧较大，约定下次调解前各自准备证据材料。",
    "经背对背调解，双方就赔偿数额达成初步一致。",
    "邀请嘎查两委成员和老党员参加调解，双方情绪趋于平稳。",
]
REPLIES = [
    "已签收并安排专人办理，预计五个工作日内办结。",
    "已组织双方再次调解，正在落实调解方案。",
    "已联系当事人核实情况，将加快办理进度。",
]
COORDINATION = {
    "grassland": ("自然资源局", "请协助调取双方承包草场确权图并派员现场核界。", "已调取确权图并于现场核定界桩位置。"),
    "labour": ("人力资源和社会保障局", "请协助核实用工情况及工资发放记录。", "已约谈用工单位，责令其限期支付。"),
    "family": ("民政局", "请协助核实老人低保及赡养情况。", "已核实，老人享受低保，子女应分担赡养费用。"),
    "demolition": ("自然资源局", "请协助提供房屋产权登记信息。", "已提供产权登记资料。"),
    "traffic": ("公安局", "请提供事故责任认定书。", "事故责任认定书已送达双方。"),
}


# ---- the world the cases happen in (from the plan) ------------------------------------------------


class _World:
    """Look-ups over the league plan: places, centers and who works where."""

    def __init__(self, plan: Plan, calendar: dict[datetime.date, bool], policies: list[tuple[Any, str, int, int]]):
        self.plan = plan
        self.regions: dict[str, PRegion] = {r.code: r for r in plan.regions}
        self.villages: dict[str, list[PRegion]] = defaultdict(list)
        self.grids: dict[str, list[str]] = defaultdict(list)
        for r in plan.regions:
            if r.level == "village":
                self.villages[r.code[:6]].append(r)
            elif r.level == "grid" and r.parent:
                self.grids[r.parent].append(r.code)
        self.workers: dict[str, list[str]] = defaultdict(list)
        for w in plan.grid_workers:
            self.workers[w.grid].append(w.name)
        self.centers = {c.code: c for c in plan.centers}
        self.orgs = {o.code: o for o in plan.orgs}
        self.names: dict[str, str] = {}
        self.org_users: dict[str, list[str]] = defaultdict(list)
        self.directors: dict[str, list[str]] = defaultdict(list)
        self.clerks: dict[str, list[str]] = defaultdict(list)
        self.leaders: dict[str, list[str]] = defaultdict(list)  # by jurisdiction prefix (4 or 6 digits)
        for a in plan.accounts:
            self.names[a.username] = a.full_name
            if a.role in ("dept_liaison", "mediator", "judge") and a.org:
                self.org_users[a.org].append(a.username)
            elif a.role == "center_director" and a.center:
                self.directors[a.center].append(a.username)
            elif a.role == "intake_clerk" and a.center:
                self.clerks[a.center].append(a.username)
            elif a.role == "leader" and a.jurisdiction:
                prefix = a.jurisdiction[:4] if a.jurisdiction.endswith("00000000") else a.jurisdiction[:6]
                self.leaders[prefix].append(a.username)
        self.league_center = next(c.code for c in plan.centers if c.level == "league")
        self.calendar = calendar
        self.policies = policies  # (category code or None, risk or "", sign days, handle days)

    def pick_user(self, rng: random.Random, users: list[str], demo_share: float = 0.3) -> str:
        """One of several accounts; the demo login gets its share so the personas have work."""
        demo = [u for u in users if u.startswith("demo-")]
        if demo and rng.random() < demo_share:
            return rng.choice(demo)
        return rng.choice([u for u in users if not u.startswith("demo-")] or users)

    def director(self, rng: random.Random, center: str) -> str:
        return self.pick_user(rng, self.directors[center], 0.35)

    def leader(self, rng: random.Random, center: str) -> str:
        region = self.centers[center].region
        return self.pick_user(rng, self.leaders.get(region[:6]) or self.leaders[region[:4]], 0.3)

    def handler(self, rng: random.Random, org: str) -> str:
        return self.pick_user(rng, self.org_users[org], 0.5)

    def actor_name(self, username: str | None) -> str:
        if username is None:
            return "系统"
        return self.names.get(username) or username

    def add_working_days(self, start: datetime.datetime, days: int) -> datetime.datetime:
        """As `calendar.add_working_days`, with the calendar read once."""
        day, counted = _local(start).date(), 0
        while counted < days:
            day += datetime.timedelta(days=1)
            counted += is_workday(day, self.calendar)
        return _at(day, datetime.time(23, 59, 59))

    def deadlines(self, category: str, risk: str, start: datetime.datetime) -> tuple[datetime.datetime, ...]:
        """Sign-for and handling deadlines by the most specific policy, as `services.policy_for`."""
        candidates = [p for p in self.policies if p[0] in (category, None) and p[1] in (risk, "")]
        best = min(candidates, key=lambda p: (p[0] is None, p[1] == ""), default=None)
        sign, handle = (best[2], best[3]) if best else (1, 30)
        return self.add_working_days(start, sign), self.add_working_days(start, handle)


@functools.cache
def _tz() -> datetime.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _at(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=_tz())


def _local(moment: datetime.datetime) -> datetime.datetime:
    # Called a hundred thousand times: timezone.localtime() would look up the active zone on each call.
    return moment.astimezone(_tz())


# ---- the planned rows ---------------------------------------------------------------------------


@dataclass
class _Event:
    kind: str
    actor: str | None
    at: datetime.datetime
    from_state: str
    to_state: str
    versioned: bool
    data: dict[str, Any]
    version: int = 0


@dataclass
class _Party:
    kind: str
    role: str
    name: str
    id_number: str
    nationality: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class _Assignment:
    org: str
    role: str
    deadline: datetime.datetime
    sign_for_due: datetime.datetime
    assigned_by: str
    assigned_at: datetime.datetime
    status: str = Assignment.Status.PENDING
    signed_by: str | None = None
    signed_at: datetime.datetime | None = None
    return_reason: str = ""


@dataclass
class _Session:
    held_at: datetime.datetime
    place_kind: str
    room: tuple[str, str] | None  # center code, room name
    place: str
    mediators: str
    attendees: str
    record: str
    recorded_by: str


@dataclass
class _Instalment:
    due_on: datetime.date
    amount: Decimal
    paid_on: datetime.date | None = None
    paid_amount: Decimal | None = None
    receipt_number: str = ""


@dataclass
class _Agreement:
    number: str
    facts: str
    terms: str
    amount: Decimal | None
    performance_method: str
    performance_place: str
    performance_due: datetime.date
    signed_on: datetime.date
    recorded_by: str
    instalments: list[_Instalment] = field(default_factory=list)


@dataclass
class _Referral:
    court: str
    kind: str
    referred_at: datetime.datetime
    result: str = CourtReferral.Result.PENDING
    decided_at: datetime.datetime | None = None
    note: str = ""


@dataclass
class _FollowUp:
    at: datetime.datetime
    method: str
    performance: str
    satisfaction: str
    note: str
    by: str


@dataclass
class _Supervision:
    kind: str
    issuer: str | None
    issuer_center: str
    target_org: str | None
    reason: Callable[[], str]  # may quote another document's number, known only once all are numbered
    deadline: datetime.datetime
    issued_at: datetime.datetime
    number: str = ""
    status: str = Supervision.Status.OPEN
    reply: str = ""
    replied_at: datetime.datetime | None = None
    effect: str = ""


@dataclass
class _Coordination:
    from_org: str
    to_org: str
    message: str
    requested_by: str
    requested_at: datetime.datetime
    reply: str = ""
    replied_at: datetime.datetime | None = None


@dataclass
class _Case:
    county: str
    channel: str
    category: str
    title: str
    description: str
    region: str
    location: str
    lng: float | None
    lat: float | None
    amount: Decimal | None
    people: int
    foreign: bool
    risk: str
    risk_suggested: str
    risk_reasons: list[str]
    risk_override: str
    major: bool
    center: str
    owner: str
    registered_at: datetime.datetime
    occurred_on: datetime.date
    target: str
    intake_data: dict[str, Any]
    parties: list[_Party]
    number: str = ""
    original_number: str = ""
    state: str = S.REGISTERED
    version: int = 0
    escalations: int = 0
    due_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None
    outcome: str = ""
    outcome_note: str = ""
    league_major: bool = False
    events: list[_Event] = field(default_factory=list)
    assignments: list[_Assignment] = field(default_factory=list)
    sessions: list[_Session] = field(default_factory=list)
    agreement: _Agreement | None = None
    referrals: list[_Referral] = field(default_factory=list)
    follow_ups: list[_FollowUp] = field(default_factory=list)
    supervisions: list[_Supervision] = field(default_factory=list)
    coordinations: list[_Coordination] = field(default_factory=list)


# ---- planning one county's cases ----------------------------------------------------------------


def _weighted(rng: random.Random, options: Mapping[Any, float]) -> Any:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def _target_state(rng: random.Random, imported: bool, days_ago: int) -> str:
    """The state a case has reached by the end of the history, by its age."""
    if imported:
        table = {S.CLOSED: 86, S.REJECTED: 3.5, S.WITHDRAWN: 5, S.IN_PROGRESS: 2.5, S.UNRESOLVED: 1, S.RESOLVED: 1}
        table |= {S.ASSIGNED: 0.5, S.ACCEPTED: 0.5}
    elif days_ago <= 3:
        table = {S.REGISTERED: 30, S.ACCEPTED: 18, S.ASSIGNED: 17, S.IN_PROGRESS: 20, S.RESOLVED: 3, S.CLOSED: 4}
        table |= {S.REJECTED: 4, S.WITHDRAWN: 2, S.UNRESOLVED: 2}
    elif days_ago <= 14:
        table = {S.REGISTERED: 4, S.ACCEPTED: 7, S.ASSIGNED: 8, S.IN_PROGRESS: 38, S.RESOLVED: 10, S.CLOSED: 21}
        table |= {S.REJECTED: 5, S.WITHDRAWN: 3, S.UNRESOLVED: 4}
    elif days_ago <= 45:
        table = {S.REGISTERED: 1, S.ACCEPTED: 2, S.ASSIGNED: 3, S.IN_PROGRESS: 22, S.RESOLVED: 7, S.CLOSED: 54}
        table |= {S.REJECTED: 4, S.WITHDRAWN: 3, S.UNRESOLVED: 4}
    else:
        table = {S.ACCEPTED: 1, S.ASSIGNED: 1, S.IN_PROGRESS: 7, S.RESOLVED: 3, S.CLOSED: 79}
        table |= {S.REJECTED: 4, S.WITHDRAWN: 3, S.UNRESOLVED: 2}
    return str(_weighted(rng, table))


class _CountyPlanner:
    """The cases of one county: where, what, who, and which state each has reached."""

    def __init__(self, world: _World, county: dict[str, Any], anchor: datetime.date, seed_value: int):
        self.w = world
        self.c6 = county["code"][:6]
        self.county = county
        self.short = county["name"]
        for suffix in ("管理区", "市", "旗", "县"):
            self.short = self.short.removesuffix(suffix)
        self.anchor = anchor
        self.rng = random.Random(f"zongzhi-case-history:{seed_value}:{self.c6}")
        villages = world.villages[self.c6]
        factor = {"community": 1.6, "village": 1.0, "gacha": 0.7}
        self.villages = villages
        self.village_weights = list(itertools.accumulate(factor[v.kind] for v in villages))

    def person(self, pastoral: bool) -> str:
        rng = self.rng
        if rng.random() < (0.55 if pastoral else 0.25):
            return rng.choice(places.MONGOLIAN_NAMES)
        return rng.choice(places.SURNAMES) + rng.choice(places.GIVEN)

    def phone(self) -> str:
        return f"1{self.rng.choice(PHONE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"

    def resident_id(self, registered: datetime.date, migrant: bool = False) -> str:
        rng = self.rng
        region6 = rng.choice(OTHER_ID_REGIONS) if migrant or rng.random() < 0.12 else self.c6
        age_days = rng.randint(21 * 365, 78 * 365)
        return make_resident_id(region6, registered - datetime.timedelta(days=age_days), rng.randint(0, 999))

    def uscc(self, prefix: str) -> str:
        first17 = prefix + self.c6 + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(9))
        return first17 + uscc_check_char(first17)

    def organisation(self, against: str, township: PRegion) -> tuple[str, str]:
        rng = self.rng
        word = rng.choice(COMPANY_WORDS)
        if against == "employer":
            return f"{self.short}{word}{rng.choice(INDUSTRIES)}有限公司", self.uscc("91")
        if against == "property":
            return f"{self.short}{word}物业服务有限公司", self.uscc("91")
        if against == "shop":
            return f"{self.short}{word}商贸有限公司", self.uscc("91")
        if against == "hospital":
            return f"{self.county['name']}{rng.choice(['人民医院', '蒙医医院', '中医医院'])}", self.uscc("12")
        suffix = "人民政府" if township.kind in ("town", "sumu") else "办事处"
        if rng.random() < 0.5 or township.kind == "farm":
            return f"{self.county['name']}房屋征收与补偿管理办公室", self.uscc("11")
        return f"{township.name}{suffix}", self.uscc("11")

    def plan(self, imported: int, live: int, majors: list[tuple[int, str]]) -> list[_Case]:
        """The county's cases in the order registered, numbered; the first import is the oldest case."""
        rng = self.rng
        extra = [self.league_major(days_ago, target) for days_ago, target in majors]
        ages = [HISTORY_DAYS] + [rng.randint(LIVE_DAYS + 1, HISTORY_DAYS - 1) for _ in range(imported - 1)]
        ages += [min(LIVE_DAYS, max(1, round(rng.triangular(1, LIVE_DAYS, 1)))) for _ in range(live - len(extra))]
        cases = [self.case(days_ago, i < imported, probe=i == 0) for i, days_ago in enumerate(ages)]
        if live >= 30:
            self.cover_every_state([c for c in cases if c.channel != Case.Channel.IMPORT])
        cases += extra
        cases.sort(key=lambda c: c.registered_at)
        per_day: dict[datetime.date, int] = defaultdict(int)
        serial = 0
        for case in cases:
            day = _local(case.registered_at).date()
            per_day[day] += 1
            case.number = f"{self.c6}{day:%Y%m%d}{per_day[day]:04d}"
            if case.channel == Case.Channel.IMPORT:
                serial += 1
                case.original_number = _original_number(self.c6, serial)
                case.intake_data["original_number"] = case.original_number
        return cases

    def cover_every_state(self, live: list[_Case]) -> None:
        """Make sure the county shows every state: the youngest cases take the open ones."""
        present = {c.target for c in live}
        by_age = sorted(live, key=lambda c: c.registered_at, reverse=True)
        taken: set[int] = set()
        for state in S.values:
            if state in present:
                continue
            pool = by_age[:20] if state in OPEN else by_age[20:60] or by_age
            choice = next((c for c in pool if id(c) not in taken and not c.league_major), None)
            if choice is not None:
                choice.target = state
                taken.add(id(choice))

    def case(
        self,
        days_ago: int,
        imported: bool,
        probe: bool = False,
        village: PRegion | None = None,
        category: str | None = None,
    ) -> _Case:
        """One dispute: place, channel, kind, parties, text and risk, and the state it will have reached."""
        rng, w = self.rng, self.w
        village = village or rng.choices(self.villages, cum_weights=self.village_weights)[0]
        township = w.regions[village.parent or ""]
        pastoral = village.kind == "gacha"
        if imported:
            channel = str(Case.Channel.IMPORT)
        else:
            channel = _weighted(rng, {"window": 40, "grid": 30, "department": 10, "mobile": 10, "portal": 10})
            if channel == "mobile" and not pastoral:
                channel = "window"
        day = self.anchor - datetime.timedelta(days=days_ago)
        weekend = not probe and channel in ("window", "department", "import") and day.isoweekday() > 5
        if weekend and rng.random() < 0.85:  # windows are shut at weekends; most of it waits for Monday
            day = min(day + datetime.timedelta(days=8 - day.isoweekday()), self.anchor - datetime.timedelta(1))
        if channel == "portal":
            minute = rng.randint(7 * 60, 23 * 60 + 30)
        elif channel in ("grid", "mobile"):
            minute = rng.randint(8 * 60, 20 * 60)
        else:
            minute = rng.randint(8 * 60 + 30, 17 * 60 + 30)
        if day == self.anchor - datetime.timedelta(days=1):
            minute = min(minute, 19 * 60)
        registered = _at(day, datetime.time(minute // 60, minute % 60, rng.randint(0, 59)))

        if category is None and ((self.c6 == "152501" and rng.random() < 0.25) or rng.random() < 0.01):
            category = "foreign"
        category = category or _weighted(rng, PROFILES[village.kind])
        kind = KINDS[category]
        amount: Decimal | None = None
        if rng.random() < kind.amount[0]:
            low, high = kind.amount[1], kind.amount[2]
            if rng.random() < kind.large:
                low, high = low * 10, high * 10
            amount = Decimal(round(low * (high / low) ** rng.random(), -2)).quantize(Decimal("0.01"))
        people = kind.people[0] if rng.random() < 0.7 else rng.randint(*kind.people)
        if category == "labour.1" and rng.random() < 0.08:
            people = rng.randint(10, 45)
            if amount is not None:
                amount = (amount * people / 3).quantize(Decimal("100"))
        texts = [t for t in kind.texts if amount is not None or "{amount}" not in t[1]]
        if self.c6 != "152501":
            texts = [t for t in texts if "口岸" not in t[1]] or texts
        title, template = rng.choice(texts)
        if "{n}" in template:
            people = max(people, 3)

        a = self.person(pastoral)
        parties = [
            _Party(
                Party.Kind.PERSON,
                Party.Role.APPLICANT,
                a,
                self.resident_id(day, migrant=category == "labour.1" and rng.random() < 0.3),
                phone=self.phone() if rng.random() < 0.9 else "",
                address=f"{self.county['name']}{township.name}{village.name}",
            )
        ]
        if kind.against in ("person",):
            b = self.person(pastoral)
            while b == a:
                b = self.person(pastoral)
            parties.append(
                _Party(
                    Party.Kind.PERSON,
                    Party.Role.RESPONDENT,
                    b,
                    self.resident_id(day) if rng.random() < 0.8 else "",
                    phone=self.phone() if rng.random() < 0.7 else "",
                    address=f"{self.county['name']}{township.name}{village.name}" if rng.random() < 0.7 else "",
                )
            )
        elif kind.against == "foreigner":
            b = rng.choice(FOREIGN_NAMES)
            nationality = "MNG" if rng.random() < 0.85 else "RUS"
            passport = (
                f"E{rng.randint(0, 9_999_999):07d}" if nationality == "MNG" else f"7{rng.randint(0, 99_999_999):08d}"
            )
            parties.append(_Party(Party.Kind.FOREIGNER, Party.Role.RESPONDENT, b, passport, nationality))
        else:
            b, uscc = self.organisation(kind.against, township)
            parties.append(_Party(Party.Kind.ORGANISATION, Party.Role.RESPONDENT, b, uscc, phone=self.phone()))
        if people >= 3 and kind.against != "person" and rng.random() < 0.5:
            parties.insert(
                1, _Party(Party.Kind.PERSON, Party.Role.APPLICANT, self.person(pastoral), self.resident_id(day))
            )
        if category == "traffic" and rng.random() < 0.3:
            parties.append(
                _Party(
                    Party.Kind.ORGANISATION,
                    Party.Role.THIRD,
                    f"中国人民财产保险股份有限公司{self.county['name']}支公司",
                    self.uscc("91"),
                )
            )

        slots = {
            "a": a,
            "b": b,
            "place": f"{township.name}{village.name}",
            "village": village.name,
            "amount": f"{int(amount)}" if amount is not None else "",
            "m": rng.randint(5, 300),
            "mu": rng.choice([50, 80, 120, 200, 300, 500, 800, 1200, 2000]),
            "k": rng.randint(2, 14),
            "kids": rng.randint(2, 5),
            "n": people,
            "head": rng.choice([12, 20, 35, 60, 85, 120, 200]),
            "goods": rng.choice(GOODS),
            "project": rng.choice(PROJECTS),
        }
        description = template.format(**slots)
        roll = rng.random()
        if roll < 0.05:
            description += f"双方多次发生口角，{b}扬言要找人算账。"
        elif roll < 0.08:
            description += "此前双方曾发生推搡，对方动手打人。"
        elif roll < 0.085 or (category == "labour.1" and people >= 10 and rng.random() < 0.25):
            description += "部分当事人情绪激动，扬言要集体上访。"
        risk, reasons = suggest_risk(amount=amount, people_involved=people, text=f"{title}\n{description}", repeats=0)
        final, override = risk, ""
        if risk in ("blue", "yellow") and rng.random() < 0.04:
            final = {"blue": "yellow", "yellow": "orange"}[risk]
            override = rng.choice(["当事人情绪激动，存在矛盾激化可能。", "纠纷已持续较长时间，多次协商未果。"])

        t9 = township.code[:9]
        center = f"ZZ-{t9}" if rng.random() < 0.22 and f"ZZ-{t9}" in w.centers else f"ZZ-{self.c6}"
        owner = w.pick_user(rng, w.clerks[center], 0.25)
        region = village.code
        intake: dict[str, Any] = {}
        if channel == "grid" and w.grids[village.code]:
            region = rng.choice(w.grids[village.code])
            intake["reporter"] = rng.choice(w.workers[region] or ["网格员"])
        elif channel == "mobile":
            intake["unit"] = "乌日特流动综治服务队"
        elif channel == "department":
            intake["from"] = rng.choice([f"{self.county['name']}信访局", f"{self.county['name']}公安局", "12345热线"])
        elif channel == "import":
            intake["source"] = "矛盾纠纷排查化解台账"
        return _Case(
            county=self.c6,
            channel=channel,
            category=category,
            title=title,
            description=description,
            region=region,
            location=f"{township.name}{village.name}",
            lng=round(village.lng + rng.uniform(-0.03, 0.03), 5) if village.lng is not None else None,
            lat=round(village.lat + rng.uniform(-0.02, 0.02), 5) if village.lat is not None else None,
            amount=amount,
            people=people,
            foreign=category == "foreign",
            risk=final,
            risk_suggested=risk,
            risk_reasons=[str(r) for r in reasons],
            risk_override=override,
            major=final == Case.Risk.RED,
            center=center,
            owner=owner,
            registered_at=registered,
            occurred_on=day - datetime.timedelta(days=rng.randint(0, 90 if category.startswith("grassland") else 20)),
            target=_target_state(rng, imported, days_ago),
            intake_data=intake,
            parties=parties,
        )

    def league_major(self, days_ago: int, target: str) -> _Case:
        """A 重大疑难 case that went to league-level coordination."""
        if self.c6 == "152527":
            township = next(r for r in self.w.regions.values() if r.name == "红旗镇" and r.code.startswith(self.c6))
            village = self.rng.choice([v for v in self.villages if v.parent == township.code])
        else:
            village = self.rng.choice([v for v in self.villages if v.kind == "gacha"])
        labour = self.c6 == "152527"
        case = self.case(days_ago, imported=False, village=village, category="labour.1" if labour else "grassland.1")
        if labour:
            case.title = "农民工群体讨薪纠纷"
            case.people, case.amount = 46, Decimal("1368000.00")
            case.description = (
                f"{case.parties[0].name}等46名农民工在红旗镇一处安置房项目务工，项目停工后被拖欠工资共计136.8万元，"
                "部分工人扬言要到盟里集体上访。"
            )
        else:
            case.title = "两嘎查草场边界群体性纠纷"
            case.people, case.amount = 38, None
            case.description = (
                "两个嘎查38户牧民因相邻草场边界长期存在争议，今年春季围栏施工时双方聚集对峙，"
                "涉及草场约一万二千亩，已多次调处未果。"
            )
        case.channel, case.intake_data = str(Case.Channel.WINDOW), {}
        case.risk, reasons = suggest_risk(
            amount=case.amount, people_involved=case.people, text=f"{case.title}\n{case.description}", repeats=0
        )
        case.risk_suggested, case.risk_reasons, case.risk_override = case.risk, [str(r) for r in reasons], ""
        case.major, case.league_major, case.target = True, True, target
        case.center = f"ZZ-{self.c6}"
        case.owner = self.w.pick_user(self.rng, self.w.clerks[case.center], 0.5)
        return case


# ---- one case's story ---------------------------------------------------------------------------


Step = tuple[str, float, dict[str, Any]]


class _Story:
    """Walks a case from intake to the state it has reached, writing what each step writes."""

    def __init__(self, world: _World, case: _Case, rng: random.Random, end: datetime.datetime):
        self.w, self.c, self.rng, self.end = world, case, rng, end
        self.last = case.registered_at
        self.queue: list[tuple[datetime.datetime, int, Callable[[datetime.datetime], None]]] = []
        self.counter = 0
        self.pace = {"blue": 0.5, "yellow": 1.0, "orange": 1.3, "red": 1.5}[case.risk]
        self.co_planned = 0

    # -- the script: which steps, with nominal gaps in days --

    def gap(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def script(self) -> list[Step]:
        c, rng = self.c, self.rng
        steps: list[Step] = [("intake", 0.0, {})]
        target = c.target
        if c.league_major:
            return steps + self.major_script()
        if target == S.REGISTERED:
            return steps
        if target == S.REJECTED:
            return [*steps, ("reject", self.gap(0.05, 2), {})]
        steps.append(("accept", self.gap(0.01, 0.8), {}))
        if target == S.WITHDRAWN:
            depth = rng.choice([0, 0, 1, 1, 2])
            if depth >= 1:
                steps += self.assign_steps(returned=False)
            if depth >= 2:
                steps += self.sign_steps()
            return [*steps, ("withdraw", self.gap(1, 12), {})]
        if target == S.ACCEPTED:
            if rng.random() < 0.35:
                steps += self.assign_steps(returned=False)
                steps.append(("return", self.gap(0.2, 2), {}))
            elif rng.random() < 0.15 and c.center != f"ZZ-{c.county}":
                steps.append(("escalate", self.gap(0.5, 3), {}))
            return steps
        steps += self.assign_steps(returned=rng.random() < 0.07)
        if target == S.ASSIGNED:
            return steps
        steps += self.sign_steps()
        if c.category.split(".")[0] in COORDINATION and rng.random() < 0.1:
            steps.append(("coordinate", self.gap(1, 4), {}))
        if rng.random() < (0.25 if c.risk in ("orange", "red") else 0.03):
            steps.append(("supervise", self.gap(2, 8), {"kind": rng.choice([K.HANDOVER, K.SUPERVISION])}))
        if rng.random() < (0.12 if c.risk in ("orange", "red") else 0.02):
            steps.append(("escalate", self.gap(2, 8), {}))
        if target == S.IN_PROGRESS:
            return steps + self.sessions(rng.choice([0, 1, 1, 2]))
        resolved = target == S.RESOLVED or (target == S.CLOSED and rng.random() < 0.85)
        if resolved:
            agreement = rng.random() < 0.6
            steps += self.sessions(rng.choice([1, 1, 2, 3]) if agreement else rng.choice([0, 1]))
            if agreement:
                steps.append(("agreement", self.gap(0.01, 0.1), {}))
            steps.append(("resolve", self.gap(0.001, 0.02) if agreement else self.gap(1, 6) * self.pace, {}))
            if agreement and rng.random() < 0.15:
                steps.append(("confirm", self.gap(0.5, 3), {}))
        else:
            steps += self.sessions(rng.choice([1, 2]))
            steps.append(("fail", self.gap(1, 6), {}))
        if target in (S.RESOLVED, S.UNRESOLVED):
            return steps
        if not resolved and rng.random() < 0.45:
            steps.append(("refer_court", self.gap(0.5, 4), {}))
        else:
            steps.append(("close", self.gap(0.3, 4), {}))
        if resolved and rng.random() < 0.02:
            steps.append(("reopen", self.gap(20, 50), {}))
            steps += self.assign_steps(returned=False)
            steps += self.sign_steps()
            steps += self.sessions(1)
            steps += [("resolve", self.gap(1, 5), {"note": "经再次调处，被申请人已履行协议约定义务。"})]
            steps.append(("close", self.gap(0.3, 3), {}))
        return steps

    def major_script(self) -> list[Step]:
        c = self.c
        reason = "涉及人数众多、矛盾易激化，存在群体性事件风险，属重大疑难案件，提请盟级综治中心统筹协调。"
        steps: list[Step] = [
            ("accept", self.gap(0.01, 0.2), {}),
            ("escalate", self.gap(0.3, 1.5), {"reason": reason}),
            ("assign", self.gap(0.2, 1.5), self.major_orgs()),
            *self.sign_steps(),
            ("coordinate", self.gap(1, 3), {}),
            ("supervise", self.gap(1, 3), {"kind": K.LETTER}),
            *self.sessions(2),
        ]
        if c.target == S.CLOSED:
            steps += [
                ("agreement", self.gap(0.01, 0.1), {}),
                ("resolve", self.gap(0.001, 0.01), {}),
                ("close", self.gap(0.5, 3), {}),
            ]
        return steps

    def major_orgs(self) -> dict[str, Any]:
        """Who handles a 重大疑难 case: the competent department with the courts and the petition bureau."""
        names = ["人力资源和社会保障局", "总工会", "人民法院"] if self.c.category.startswith("labour") else []
        names = names or ["自然资源局", "林业和草原局", "信访局"]
        lead, *co = (f"{self.c.county}-D{ALL_DEPARTMENTS.index(name) + 1:02d}" for name in names)
        self.co_planned = len(co)
        return {"lead": lead, "co": co}

    def assign_steps(self, *, returned: bool) -> list[Step]:
        rng = self.rng
        lead = self.pick_lead(set())
        count = (1 if rng.random() < 0.22 else 0) + (1 if rng.random() < 0.04 else 0)
        cos: list[str] = []
        for _ in range(count):
            other = self.pick_lead({lead, *cos}, co=True)
            if other:
                cos.append(other)
        steps: list[Step] = [("assign", self.gap(0.1, 2), {"lead": lead, "co": cos})]
        self.co_planned = len(cos)
        if returned:
            self.co_planned = 0
            steps.append(("return", self.gap(0.2, 2), {}))
            steps.append(("assign", self.gap(0.1, 1.5), {"lead": self.pick_lead({lead}), "co": []}))
        return steps

    def sign_steps(self) -> list[Step]:
        steps: list[Step] = [("sign_lead", self.gap(0.02, 1), {})]
        return steps + [("sign_co", self.gap(0.05, 1.5), {}) for _ in range(self.co_planned)]

    def sessions(self, n: int) -> list[Step]:
        return [("session", self.gap(1, 8) * self.pace, {}) for _ in range(n)]

    def pick_lead(self, exclude: set[str], co: bool = False) -> str:
        """A lead (or co-handling) org for the case, by its domain and where it was received."""
        c, rng, w = self.c, self.rng, self.w
        c6, domain = c.county, KINDS[c.category].domain
        options: dict[str, float] = {}
        t9 = c.region[:9]
        if c.center.startswith(f"ZZ-{t9}") and not co:
            for suffix, weight in TOWNSHIP_LEADS.items():
                options[f"{t9}-{suffix}"] = weight
        for spec, weight in LEADS[domain] + ([(("dept", "司法局"), 1), (("tjs",), 1)] if co else []):
            if spec[0] == "dept":
                codes = [f"{c6}-D{ALL_DEPARTMENTS.index(spec[1]) + 1:02d}"]
            elif spec[0] == "mc":
                codes = [f"{c6}-MC"]
            elif spec[0] == "brand":
                codes = [code for code in (f"{c6}-BR{i}" for i in range(1, 5)) if code in w.orgs]
            elif spec[0] == "tjs":
                codes = [f"{t9}-JS", f"{t9}-PS"]
            else:
                herder = [d for d in places.HERDER_DOMAINS if places.DOMAIN_CODES[d] == domain]
                codes = [f"{c6}-PT{places.HERDER_DOMAINS.index(herder[0]) + 1}"] if herder and c6 == "152526" else []
            for code in codes:
                if code in w.org_users:
                    options[code] = options.get(code, 0) + weight / len(codes)
        options = {k: v for k, v in options.items() if k not in exclude and w.org_users.get(k)}
        if not options:
            options = {f"{c6}-D05": 1.0} if f"{c6}-D05" not in exclude else {f"{c6}-MC": 1.0}
        return str(_weighted(rng, options))

    # -- timing --

    def times(self, steps: list[Step]) -> list[datetime.datetime]:
        """Step times from the nominal gaps, in office hours, squeezed when the case is too young for them."""
        t0 = self.c.registered_at
        total = sum(g for _, g, _ in steps)
        factor = min(1.0, ((self.end - t0).total_seconds() / 86400 - 0.05) / total) if total > 0 else 1.0
        for _attempt in range(6):
            times, t = [t0], t0
            for _, gap, _ in steps[1:]:
                nxt = self.office(t + datetime.timedelta(days=gap * factor))
                t = max(nxt, t + datetime.timedelta(minutes=self.rng.randint(1, 5)))
                times.append(t)
            if t < self.end:
                return times
            factor *= 0.6
        # Still too long for the time left (a busy case registered yesterday): squeeze it as it is.
        squeeze = (self.end - datetime.timedelta(minutes=30) - t0) / (t - t0)
        return [(t0 + (moment - t0) * squeeze).replace(microsecond=0) for moment in times]

    def office(self, moment: datetime.datetime) -> datetime.datetime:
        """People act in office hours: a moment in the evening or at night moves to the next morning."""
        local = _local(moment)
        minutes = local.hour * 60 + local.minute
        if 8 * 60 <= minutes < 18 * 60 + 30:
            return moment.replace(microsecond=0)
        day = local.date() + datetime.timedelta(days=0 if minutes < 8 * 60 else 1)
        return _at(day, datetime.time(8, 30)) + datetime.timedelta(minutes=self.rng.randint(0, 180))

    # -- running it --

    def run(self) -> None:
        steps = self.script()
        for (kind, _gap, args), at in zip(steps, self.times(steps), strict=True):
            self.flush(at)
            getattr(self, f"do_{kind}")(max(at, self.last + datetime.timedelta(seconds=1)), **args)
        self.flush(self.end)
        version = 0
        for event in self.c.events:
            version += event.versioned
            event.version = version
        self.c.version = version

    def later(self, at: datetime.datetime, action: Callable[[datetime.datetime], None]) -> None:
        """Something someone does on their own time (a reply, a payment, a call back)."""
        self.counter += 1
        heapq.heappush(self.queue, (self.office(at), self.counter, action))

    def flush(self, until: datetime.datetime) -> None:
        """What happens before `until`: scheduled replies and payments, and the morning deadline sweeps."""
        while True:
            sweep = self.next_sweep()
            queued = self.queue[0][0] if self.queue else None
            if sweep is not None and (queued is None or sweep[0] <= queued) and sweep[0] < until:
                sweep[1](max(sweep[0], self.last + datetime.timedelta(seconds=1)))
            elif queued is not None and queued < until:
                _at_, _n, action = heapq.heappop(self.queue)
                action(max(_at_, self.last + datetime.timedelta(seconds=1)))
            else:
                return

    def event(
        self, kind: str, actor: str | None, at: datetime.datetime, data: dict[str, Any], *, versioned: bool = False
    ) -> _Event:
        event = _Event(kind, actor, at, "", self.c.state, versioned, data)
        self.c.events.append(event)
        self.last = at
        return event

    def transition(
        self, action: str, actor: str | None, at: datetime.datetime, data: dict[str, Any], reason: str = ""
    ) -> None:
        transition = TRANSITIONS[action]
        assert self.c.state in transition.sources, (self.c.number, action, self.c.state)
        before = self.c.state
        self.c.state = str(transition.target or before)
        payload = {**data, **({"reason": reason} if reason else {})}
        self.c.events.append(_Event(action, actor, at, before, self.c.state, True, payload))
        self.last = at

    def director(self) -> str:
        return self.w.director(self.rng, self.c.center)

    def lead(self) -> _Assignment | None:
        live = (Assignment.Status.PENDING, Assignment.Status.SIGNED)
        return next((a for a in self.c.assignments if a.role == "lead" and a.status in live), None)

    def lead_or_last(self) -> _Assignment | None:
        leads = [a for a in self.c.assignments if a.role == "lead" and a.status != Assignment.Status.RETURNED]
        return leads[-1] if leads else None

    def close_assignments(self, statuses: Iterable[str], to: str, reason: str = "") -> None:
        for a in self.c.assignments:
            if a.status in statuses:
                a.status = to
                if reason:
                    a.return_reason = reason

    # -- steps --

    def do_intake(self, at: datetime.datetime) -> None:
        c = self.c
        c.state = str(S.REGISTERED)
        data = {"channel": c.channel, "risk": c.risk, "risk_reasons": c.risk_reasons, "repeats": [], "related": []}
        self.event("intake", c.owner, c.registered_at, {**data, **c.intake_data}, versioned=True)

    def do_accept(self, at: datetime.datetime) -> None:
        actor = self.c.owner if self.rng.random() < 0.7 else self.director()
        self.transition("accept", actor, at, {})

    def do_reject(self, at: datetime.datetime) -> None:
        actor = self.c.owner if self.rng.random() < 0.6 else self.director()
        self.transition("reject", actor, at, {}, reason=self.rng.choice(REJECT_REASONS))
        self.c.closed_at = at

    def do_withdraw(self, at: datetime.datetime) -> None:
        actor = self.c.owner if self.rng.random() < 0.6 else self.director()
        self.close_assignments((Assignment.Status.PENDING, Assignment.Status.SIGNED), Assignment.Status.DONE)
        self.transition("withdraw", actor, at, {}, reason=self.rng.choice(WITHDRAW_REASONS))
        self.c.closed_at = at

    def do_assign(self, at: datetime.datetime, lead: str, co: list[str]) -> None:
        c, w = self.c, self.w
        sign_due, handle_due = w.deadlines(c.category, c.risk, at)
        actor = self.director()
        for org, role in [(lead, "lead"), *((o, "co") for o in co)]:
            c.assignments.append(_Assignment(org, role, handle_due, sign_due, actor, at))
        c.due_at = handle_due
        data = {"lead": w.orgs[lead].name, "co": [w.orgs[o].name for o in co], "deadline": handle_due.isoformat()}
        self.transition("assign", actor, at, data)

    def do_sign_lead(self, at: datetime.datetime) -> None:
        lead = self.lead()
        assert lead is not None
        actor = self.w.handler(self.rng, lead.org)
        lead.status, lead.signed_by, lead.signed_at = Assignment.Status.SIGNED, actor, at
        self.transition("sign_for", actor, at, {"org": self.w.orgs[lead.org].name, "role": "lead"})

    def do_sign_co(self, at: datetime.datetime) -> None:
        """A co-handler signs for its part: a versioned change without a state change."""
        pending = [a for a in self.c.assignments if a.role == "co" and a.status == Assignment.Status.PENDING]
        # Some co-handlers never sign for a case that is still open; one that moved on, they all did.
        if pending and (self.c.target not in OPEN or self.rng.random() < 0.9):
            a = pending[0]
            actor = self.w.handler(self.rng, a.org)
            a.status, a.signed_by, a.signed_at = Assignment.Status.SIGNED, actor, at
            self.event("sign_for", actor, at, {"org": self.w.orgs[a.org].name, "role": "co"}, versioned=True)

    def do_return(self, at: datetime.datetime) -> None:
        lead = self.lead()
        assert lead is not None
        reason = self.rng.choice(RETURN_REASONS)
        actor = self.w.handler(self.rng, lead.org)
        self.close_assignments(
            (Assignment.Status.PENDING, Assignment.Status.SIGNED), Assignment.Status.RETURNED, reason
        )
        self.c.due_at = None
        self.transition("return", actor, at, {"org": self.w.orgs[lead.org].name}, reason=reason)

    def do_escalate(
        self, at: datetime.datetime, reason: str = "", system: bool = False, why: Callable[[], str] | None = None
    ) -> bool:
        """上提 to the next center up (重大疑难 cases to the league); False when there is none or the state forbids."""
        c, w = self.c, self.w
        target = w.league_center if c.major else w.centers[c.center].parent
        if target is None or target == c.center or c.state not in TRANSITIONS["escalate"].sources:
            return False
        who = None if system else self.director()
        data: dict[str, Any] = {"from": w.centers[c.center].name, "to": w.centers[target].name, "major": c.major}
        self.transition("escalate", who, at, data, reason=reason or self.rng.choice(ESCALATE_REASONS))
        if why is not None:
            c.events[-1].data["_reason"] = why
        c.center, c.escalations = target, c.escalations + 1
        return True

    def do_session(self, at: datetime.datetime) -> None:
        c, rng, w = self.c, self.rng, self.w
        lead = self.lead_or_last()
        recorder = w.handler(rng, lead.org) if lead else self.director()
        mediators = [w.actor_name(recorder)]
        if rng.random() < 0.4:
            mediators.append(f"人民调解员{rng.choice(places.SURNAMES)}{rng.choice(places.GIVEN)}")
        center = w.centers[c.center]
        room: tuple[str, str] | None = None
        village = w.regions[c.region[:12]]
        if village.kind == "gacha" and rng.random() < 0.35:
            kind, place = MediationSession.Place.STATION, f"{village.name}蒙古包调解驿站"
        elif rng.random() < 0.2:
            kind, place = MediationSession.Place.ON_SITE, f"{c.location}现场"
        else:
            kind = MediationSession.Place.ROOM
            rooms = [r for r in center.rooms if r[1] == "mediation"]
            own = [
                r for r in center.rooms if (lead and r[3] == lead.org) or (c.foreign and r[1] == "foreign_mediation")
            ]
            chosen = own[0] if own else rng.choice(rooms)
            room, place = (center.code, chosen[2]), chosen[2]
        session = _Session(
            at,
            kind,
            room,
            place,
            "、".join(mediators),
            "、".join(p.name for p in c.parties),
            rng.choice(SESSION_RECORDS),
            recorder,
        )
        c.sessions.append(session)
        self.event("session", recorder, at, {"held_at": at.isoformat(), "place": place, "mediators": session.mediators})

    def do_agreement(self, at: datetime.datetime) -> None:
        c, rng = self.c, self.rng
        lead = self.lead_or_last()
        recorder = self.w.handler(rng, lead.org) if lead else self.director()
        signed = _local(at).date()
        amount = None
        if c.amount is not None:
            amount = (c.amount * Decimal(rng.choice([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]))).quantize(Decimal("100"))
            amount = max(amount, Decimal("100")).quantize(Decimal("0.01"))
        due = signed + datetime.timedelta(days=rng.choice([7, 15, 30, 60, 90]))
        payer = c.parties[-1].name if len(c.parties) > 1 else "被申请人"
        if amount is not None:
            terms = f"一、{payer}于{due:%Y年%m月%d日}前向{c.parties[0].name}支付{int(amount)}元；"
            terms += "二、双方就此纠纷再无其他争议。"
            method = rng.choice(["一次性银行转账", "分期银行转账", "现金支付"])
        else:
            terms = "一、双方按约定恢复原状、停止侵害；二、今后互谅互让，不再因此事发生争执。"
            method = "按约定自行履行"
        agreement = _Agreement(
            f"{c.number}-XY", c.description[:200], terms, amount, method, c.location, due, signed, recorder
        )
        if amount is not None:
            parts = 1 if method != "分期银行转账" else rng.choice([2, 3])
            share = (amount / parts).quantize(Decimal("1"))
            for i in range(parts):
                piece = share if i < parts - 1 else amount - share * (parts - 1)
                due_on = signed + datetime.timedelta(days=round((due - signed).days * (i + 1) / parts))
                instalment = _Instalment(due_on, piece)
                agreement.instalments.append(instalment)
                if rng.random() < 0.9:
                    paid = _at(due_on, datetime.time(10)) - datetime.timedelta(days=rng.randint(0, 3))
                    self.later(paid, functools.partial(self.pay, instalment=instalment, n=i))
        c.agreement = agreement
        self.event("agreement", recorder, at, {"amount": str(amount) if amount is not None else None})

    def pay(self, at: datetime.datetime, instalment: _Instalment, n: int) -> None:
        instalment.paid_on = _local(at).date()
        instalment.paid_amount = instalment.amount
        instalment.receipt_number = f"SJ{self.c.number[6:14]}{self.c.number[-4:]}{n + 1}"
        data = {"due_on": instalment.due_on.isoformat(), "paid": str(instalment.amount)}
        self.event("instalment_paid", self.c.owner, at, {**data, "receipt": instalment.receipt_number})

    def do_resolve(self, at: datetime.datetime, note: str = "") -> None:
        c = self.c
        lead = self.lead()
        actor = self.w.handler(self.rng, lead.org) if lead and self.rng.random() < 0.6 else self.director()
        with_agreement = c.agreement is not None and not note
        self.close_assignments((Assignment.Status.SIGNED,), Assignment.Status.DONE)
        c.outcome = str(Case.Outcome.AGREEMENT if with_agreement else Case.Outcome.RESOLVED_OTHER)
        c.outcome_note = "" if with_agreement else note or self.rng.choice(RESOLVE_NOTES)
        self.transition("resolve", actor, at, {"agreement": with_agreement})

    def do_fail(self, at: datetime.datetime) -> None:
        c = self.c
        lead = self.lead()
        actor = self.w.handler(self.rng, lead.org) if lead and self.rng.random() < 0.6 else self.director()
        domain = KINDS[c.category].domain
        guidance = (
            "arbitration"
            if domain == "labour" and self.rng.random() < 0.6
            else "admin_reconsideration"
            if domain in ("demolition", "land_acquisition") and self.rng.random() < 0.5
            else self.rng.choice(["litigation", "litigation", "other"])
        )
        reason = self.rng.choice(FAIL_REASONS)
        self.close_assignments((Assignment.Status.SIGNED,), Assignment.Status.DONE)
        c.outcome, c.outcome_note = guidance, reason
        self.transition("fail", actor, at, {"guidance": guidance}, reason=reason)

    def do_close(self, at: datetime.datetime) -> None:
        c = self.c
        self.transition("close", self.director(), at, {"outcome": c.outcome})
        c.closed_at = at
        self.schedule_follow_up(at)

    def do_refer_court(self, at: datetime.datetime) -> None:
        c, w, rng = self.c, self.w, self.rng
        court = f"{c.county}-FTC"
        referral = _Referral(court, CourtReferral.Kind.LITIGATION, at, note="调解不成，当事人同意转速裁法庭审理。")
        c.referrals.append(referral)
        actor = self.director()
        self.transition("refer_court", actor, at, {"court": w.orgs[court].name})
        c.closed_at, c.outcome = at, str(Case.Outcome.COURT)
        if rng.random() < 0.8:
            self.later(at + datetime.timedelta(days=self.gap(2, 12)), lambda t: self.decide(t, referral, "accepted"))
        self.schedule_follow_up(at)

    def do_confirm(self, at: datetime.datetime) -> None:
        c = self.c
        court = f"{c.county}-FTC"
        referral = _Referral(court, CourtReferral.Kind.CONFIRMATION, at)
        c.referrals.append(referral)
        actor = c.owner if self.rng.random() < 0.5 else self.director()
        self.event("court_referral", actor, at, {"court": self.w.orgs[court].name, "kind": "confirmation"})
        result = "confirmed" if self.rng.random() < 0.92 else "rejected"
        self.later(at + datetime.timedelta(days=self.gap(3, 15)), lambda t: self.decide(t, referral, result))

    def decide(self, at: datetime.datetime, referral: _Referral, result: str) -> None:
        notes = {"accepted": "已立案，进入速裁程序。", "confirmed": "调解协议合法有效，裁定确认。"}
        note = notes.get(result, "协议内容超出当事人处分范围，不予确认。")
        referral.result, referral.decided_at, referral.note = result, at, note
        judge = self.w.pick_user(self.rng, self.w.org_users[referral.court], 0.5)
        label = str(CourtReferral.Result(result).label)
        self.event("court_result", judge, at, {"result": result, "label": label, "note": note})

    def schedule_follow_up(self, closed: datetime.datetime) -> None:
        if self.rng.random() < 0.85:
            self.later(closed + datetime.timedelta(days=self.gap(2, 20)), self.follow_up)

    def follow_up(self, at: datetime.datetime) -> None:
        c, rng = self.c, self.rng
        if c.state != S.CLOSED:
            return
        paid = [i.paid_on is not None for i in c.agreement.instalments] if c.agreement else []
        if not paid:
            performance = FollowUp.Performance.NOT_APPLICABLE if c.agreement is None else FollowUp.Performance.PERFORMED
        elif all(paid):
            performance = FollowUp.Performance.PERFORMED
        else:
            performance = FollowUp.Performance.PARTLY if any(paid) else FollowUp.Performance.NOT_PERFORMED
        happy = {"satisfied": 75, "basically": 20, "dissatisfied": 5}
        if c.outcome not in (Case.Outcome.AGREEMENT, Case.Outcome.RESOLVED_OTHER):
            happy = {"satisfied": 40, "basically": 40, "dissatisfied": 20}
        satisfaction = str(_weighted(rng, happy))
        by = c.owner if rng.random() < 0.75 else self.director()
        method = rng.choice(["电话", "电话", "上门", "微信"])
        note = {"satisfied": "当事人对调处结果表示满意。", "basically": "当事人表示基本满意。"}.get(
            satisfaction, "当事人对处理结果仍有意见，已做解释工作。"
        )
        c.follow_ups.append(_FollowUp(at, method, str(performance), satisfaction, note, by))
        self.event("follow_up", by, at, {"satisfaction": satisfaction, "performance": str(performance)})

    def do_reopen(self, at: datetime.datetime) -> None:
        c = self.c
        self.close_assignments((Assignment.Status.PENDING, Assignment.Status.SIGNED), Assignment.Status.DONE)
        self.transition("reopen", self.director(), at, {}, reason=self.rng.choice(REOPEN_REASONS))
        c.closed_at, c.outcome = None, ""

    def do_coordinate(self, at: datetime.datetime) -> None:
        c, w, rng = self.c, self.w, self.rng
        lead = self.lead_or_last()
        spec = COORDINATION.get(c.category.split(".")[0])
        if lead is None or spec is None:
            return
        to_org = f"{c.county}-D{ALL_DEPARTMENTS.index(spec[0]) + 1:02d}"
        if to_org == lead.org:
            to_org = f"{c.county}-D05"
        actor = w.handler(rng, lead.org)
        request = _Coordination(lead.org, to_org, spec[1], actor, at)
        c.coordinations.append(request)
        data = {"from": w.orgs[lead.org].name, "to": w.orgs[to_org].name, "message": spec[1]}
        self.event("coordination", actor, at, data)

        def reply(t: datetime.datetime) -> None:
            request.reply, request.replied_at = spec[2], t
            self.event("coordination_reply", w.handler(rng, to_org), t, {"org": w.orgs[to_org].name, "reply": spec[2]})

        self.later(at + datetime.timedelta(days=self.gap(0.5, 3)), reply)

    def do_supervise(self, at: datetime.datetime, kind: str) -> None:
        """督办 by a leader or the director on a difficult case (not the sweep's)."""
        by_leader = kind in (K.SUPERVISION, K.LETTER) or self.rng.random() < 0.5
        issuer = self.w.leader(self.rng, self.issuer_center(kind)) if by_leader else self.director()
        reason = self.rng.choice(["案情复杂、涉及人数较多，请加大调处力度，按期办结。", "请限期化解并反馈办理情况。"])
        self.issue(at, kind, issuer, lambda: reason, days=REPLY_DAYS)

    # -- supervision documents, as `services.supervision_issue` writes them --

    def issuer_center(self, kind: str) -> str:
        parent = self.w.centers[self.c.center].parent
        return parent if kind in (K.SUPERVISION, K.LETTER) and parent else self.c.center

    def issue(
        self,
        at: datetime.datetime,
        kind: str,
        issuer: str | None,
        reason: Callable[[], str],
        *,
        days: int,
        target_org: str | None = None,
    ) -> _Supervision:
        c, w = self.c, self.w
        if target_org is None:
            leads = [a for a in c.assignments if a.role == "lead" and a.status != Assignment.Status.RETURNED]
            target_org = leads[-1].org if leads else None
        sup = _Supervision(kind, issuer, self.issuer_center(kind), target_org, reason, w.add_working_days(at, days), at)
        c.supervisions.append(sup)
        event = self.event("supervision", issuer, at, {"target": w.orgs[target_org].name if target_org else ""})
        event.data["_supervision"] = sup  # number, name and reason are filled in once every document is numbered
        chance = {"reminder": 0.7, "supervision": 0.6, "letter": 0.8}.get(kind, 0.75)
        if self.rng.random() < chance:
            self.later(at + datetime.timedelta(days=self.gap(0.2, 6)), lambda t: self.reply(t, sup))
        return sup

    def reply(self, at: datetime.datetime, sup: _Supervision) -> None:
        users = self.w.org_users.get(sup.target_org or "")
        actor = self.w.pick_user(self.rng, users, 0.5) if users else self.director()
        sup.status, sup.reply, sup.replied_at = Supervision.Status.REPLIED, self.rng.choice(REPLIES), at
        event = self.event("supervision_reply", actor, at, {"reply": sup.reply})
        event.data["_supervision"] = sup
        if self.rng.random() < 0.6:
            self.later(at + datetime.timedelta(days=self.gap(0.5, 5)), lambda t: self.assess(t, sup))

    def assess(self, at: datetime.datetime, sup: _Supervision) -> None:
        if sup.issuer_center == self.c.center:
            actor = self.w.director(self.rng, sup.issuer_center)
        else:
            actor = self.w.leader(self.rng, sup.issuer_center)
        sup.status = Supervision.Status.ASSESSED
        sup.effect = str(_weighted(self.rng, {"effective": 60, "partly": 30, "ineffective": 10}))
        event = self.event("supervision_assessed", actor, at, {"effect": sup.effect})
        event.data["_supervision"] = sup

    # -- the morning deadline sweep, as `cases/deadlines.py` runs it --

    def next_sweep(self) -> tuple[datetime.datetime, Callable[[datetime.datetime], None]] | None:
        """The sweep's next action on this case and when: the earliest due, the furthest stage first."""
        c = self.c
        if c.state not in OPEN:
            return None
        options: list[tuple[datetime.datetime, int, Callable[[datetime.datetime], None]]] = []
        if c.due_at is not None:
            due = c.due_at
            this_round = [s for s in c.supervisions if s.issued_at >= due]
            reminders = [s for s in this_round if s.kind == K.REMINDER]
            supervisions = [s for s in this_round if s.kind == K.SUPERVISION]
            for sup in supervisions:
                letters = [s for s in c.supervisions if s.kind == K.LETTER and s.issued_at >= sup.issued_at]
                if sup.status == Supervision.Status.OPEN and not letters:
                    options.append((_sweep_after(sup.deadline), 0, functools.partial(self.sweep_letter, sup=sup)))
            if reminders and not supervisions:
                options.append((_sweep_after(min(s.deadline for s in reminders)), 1, self.sweep_supervise))
            if not reminders:
                options.append((_sweep_after(due), 2, self.sweep_remind))
        for a in c.assignments:
            if a.status == Assignment.Status.PENDING and not any(
                s.kind == K.REMINDER and s.target_org == a.org and s.issued_at >= a.sign_for_due for s in c.supervisions
            ):
                options.append((_sweep_after(a.sign_for_due), 3, functools.partial(self.sweep_sign_for, a=a)))
        if not options:
            return None
        at, _priority, action = min(options, key=lambda o: o[:2])
        return at, action

    def late(self, now: datetime.datetime) -> str:
        assert self.c.due_at is not None
        due = _local(self.c.due_at).date()
        day, days = due, 0
        while day < _local(now).date():
            day += datetime.timedelta(days=1)
            days += is_workday(day, self.w.calendar)
        if days:
            return f"案件已超过办理期限（{due:%Y-%m-%d}）{days} 个工作日"
        return f"案件已超过办理期限（{due:%Y-%m-%d}）"

    def sweep_remind(self, at: datetime.datetime) -> None:
        late = self.late(at)
        self.issue(at, K.REMINDER, None, lambda: f"{late}，请于 {REPLY_DAYS} 个工作日内反馈办理情况。", days=REPLY_DAYS)

    def sweep_supervise(self, at: datetime.datetime) -> None:
        late = self.late(at)
        assert self.c.due_at is not None
        reminder = min(
            (s for s in self.c.supervisions if s.kind == K.REMINDER and s.issued_at >= self.c.due_at),
            key=lambda s: s.issued_at,
        )
        self.issue(
            at,
            K.SUPERVISION,
            None,
            lambda: (
                f"{late}，提示函 {reminder.number} 的反馈期限已过，案件仍未办结。"
                f"请于 {REPLY_DAYS} 个工作日内反馈办理情况。"
            ),
            days=REPLY_DAYS,
        )

    def sweep_letter(self, at: datetime.datetime, sup: _Supervision) -> None:
        late = self.late(at)
        self.issue(
            at,
            K.LETTER,
            None,
            lambda: f"督办单 {sup.number} 逾期未反馈，{late}。现发督办函，请于 {REPLY_DAYS} 个工作日内反馈办理情况。",
            days=REPLY_DAYS,
            target_org=sup.target_org,
        )
        then = "重大疑难案件提请盟级统筹协调。" if self.c.major else "上提至上一级综治中心。"
        if self.do_escalate(
            at + datetime.timedelta(seconds=1),
            reason=f"督办单逾期未反馈，{then}",
            system=True,
            why=lambda: f"督办单 {sup.number} 逾期未反馈，{then}",
        ):
            c = self.c
            if c.due_at is not None and c.due_at <= at:
                _sign, c.due_at = self.w.deadlines(c.category, c.risk, at)
                reason = "上提后按期限规则重新计算办理期限。"
                self.event(
                    "deadline",
                    None,
                    at + datetime.timedelta(seconds=2),
                    {"due_at": c.due_at.isoformat(), "reason": reason},
                    versioned=True,
                )

    def sweep_sign_for(self, at: datetime.datetime, a: _Assignment) -> None:
        due = _local(a.sign_for_due)
        name = self.w.orgs[a.org].name
        self.issue(
            at,
            K.REMINDER,
            None,
            lambda: f"{name}未在签收期限（{due:%Y-%m-%d %H:%M}）前签收案件，请于 1 个工作日内签收办理。",
            days=1,
            target_org=a.org,
        )


def _sweep_after(moment: datetime.datetime) -> datetime.datetime:
    """The first morning sweep after `moment`."""
    local = _local(moment)
    sweep = _at(local.date(), SWEEP_AT)
    return sweep if sweep > local else sweep + datetime.timedelta(days=1)


# ---- the whole league ---------------------------------------------------------------------------


def plan_case_history(plan: Plan, anchor: datetime.date, seed_value: int, world: _World | None = None) -> list[_Case]:
    """Every county's cases with their stories, up to the day before `anchor`."""
    world = world or _world(plan, anchor)
    counties = plan.reference["counties"]
    weights = [c["population_10k"] * (1.15 if c["pastoral"] else 1.0) for c in counties]
    imported = allocate(IMPORTED, weights, minimum=10)
    live = allocate(LIVE, weights, minimum=10)
    end = _at(anchor, datetime.time(0, 0))
    cases: list[_Case] = []
    for county, n_imported, n_live in zip(counties, imported, live, strict=True):
        planner = _CountyPlanner(world, county, anchor, seed_value)
        county_cases = planner.plan(n_imported, n_live, LEAGUE_MAJORS.get(county["code"][:6], []))
        rng = random.Random(f"zongzhi-case-stories:{seed_value}:{county['code'][:6]}")
        for case in county_cases:
            _Story(world, case, rng, end).run()
        cases += county_cases
    _number_supervisions(cases)
    return cases


def _number_supervisions(cases: list[_Case]) -> None:
    """Document numbers per issuing center, kind and year in the order issued, as the service counts."""
    documents = sorted(
        ((s.issued_at, case.number, i, s) for case in cases for i, s in enumerate(case.supervisions)),
        key=lambda d: d[:3],
    )
    counters: dict[tuple[str, str, int], int] = defaultdict(int)
    for issued, _number, _i, sup in documents:
        year = _local(issued).year
        counters[sup.issuer_center, sup.kind, year] += 1
        sup.number = (
            f"{sup.issuer_center}-{sup.kind[:2].upper()}〔{year}〕{counters[sup.issuer_center, sup.kind, year]:04d}"
        )


def _world(plan: Plan, anchor: datetime.date) -> _World:
    start = anchor - datetime.timedelta(days=HISTORY_DAYS + 30)
    calendar = dict(
        CalendarDay.objects.filter(day__gte=start, day__lte=anchor + datetime.timedelta(days=400)).values_list(
            "day", "workday"
        )
    )
    policies = [
        (code, risk, sign, handle)
        for code, risk, sign, handle in DeadlinePolicy.objects.values_list(
            "category__code", "risk_level", "sign_for_days", "handle_days"
        )
    ]
    return _World(plan, calendar, policies)


def stored_anchor() -> datetime.date | None:
    """The day the stored history ends before, read back from its oldest imported case."""
    registered = (
        Case.objects.filter(original_number=_original_number(XILINHOT, 1), channel=Case.Channel.IMPORT)
        .values_list("registered_at", flat=True)
        .first()
    )
    if registered is None:
        return None
    return _local(registered).date() + datetime.timedelta(days=HISTORY_DAYS)


# ---- writing it ---------------------------------------------------------------------------------


def seed_case_history(
    *, scale: str, seed_value: int, plan: Plan | None = None, as_of: datetime.date | None = None
) -> int:
    """Write the league's case history (scale league) or Xilinhot's (scale small); returns cases inserted."""
    plan = plan or build_plan(seed_value)
    anchor = as_of or stored_anchor() or timezone.localdate()
    counties = None if scale == "league" else {XILINHOT}
    world = _world(plan, anchor)
    cases = [c for c in plan_case_history(plan, anchor, seed_value, world) if counties is None or c.county in counties]
    existing: set[str] = set()
    numbers = [c.number for c in cases]
    for i in range(0, len(numbers), 500):
        existing.update(Case.objects.filter(number__in=numbers[i : i + 500]).values_list("number", flat=True))
    missing = [c for c in cases if c.number not in existing]
    if not missing:
        return 0
    with transaction.atomic():
        _write(missing, world)
    return len(missing)


def _pk(model: Any, field: str, values: Iterable[Any]) -> dict[Any, int]:
    wanted = sorted(set(values))
    found: dict[Any, int] = {}
    for i in range(0, len(wanted), 500):
        found.update(model._default_manager.filter(**{f"{field}__in": wanted[i : i + 500]}).values_list(field, "pk"))
    return found


def _write(cases: list[_Case], world: _World) -> None:
    users = _pk(User, "username", _usernames(cases))
    centers = _pk(Center, "code", {c.center for c in cases} | {s.issuer_center for c in cases for s in c.supervisions})
    orgs = _pk(Org, "code", _org_codes(cases))
    regions = _pk(Region, "code", (c.region for c in cases))
    categories = dict(Category.objects.values_list("code", "pk"))
    rooms = {(code, name): pk for code, name, pk in Room.objects.values_list("center__code", "name", "pk")}
    names = dict(SupervisionName.objects.values_list("kind", "name"))
    refs: dict[str, dict[Any, int]] = {field: users for field in USER_FIELDS} | {field: orgs for field in ORG_FIELDS}
    refs |= {"issuer_center": centers, "room": rooms}

    _insert(
        Case,
        [
            *("number", "channel", "category_id", "title", "description", "region_id", "region_code", "location"),
            *("lng", "lat", "amount", "people_involved", "foreign_related", "risk_level", "risk_suggested"),
            *("risk_reasons", "risk_override_reason", "major", "state", "version", "center_id", "escalations"),
            *("owner_id", "registered_at", "occurred_on", "due_at", "closed_at", "outcome", "outcome_note"),
            "original_number",
        ],
        [
            (
                *(c.number, c.channel, categories[c.category], c.title, c.description, regions[c.region], c.region),
                *(c.location, c.lng, c.lat, c.amount, c.people, c.foreign, c.risk, c.risk_suggested, c.risk_reasons),
                *(c.risk_override, c.major, c.state, c.version, centers[c.center], c.escalations, users[c.owner]),
                *(c.registered_at, c.occurred_on, c.due_at, c.closed_at, c.outcome, c.outcome_note),
                c.original_number,
            )
            for c in cases
        ],
    )
    case_pk = _pk(Case, "number", (c.number for c in cases))
    event_columns = ["case_id", "region_code", "kind", "actor_id", "actor_name", "at", "from_state", "to_state"]
    events: list[tuple[Any, ...]] = []
    children: dict[type[Any], list[tuple[Any, ...]]] = defaultdict(list)
    for c in cases:
        pk, code = case_pk[c.number], c.region
        for e in c.events:
            actor = users[e.actor] if e.actor else None
            events.append(
                (pk, code, e.kind, actor, world.actor_name(e.actor), e.at, e.from_state, e.to_state)
                + (e.version, _event_data(e, names))
            )
        for planned in [
            *c.parties,
            *c.assignments,
            *c.sessions,
            *([c.agreement] if c.agreement else []),
            *c.referrals,
            *c.follow_ups,
            *c.supervisions,
            *c.coordinations,
        ]:
            values = [pk, code]
            for name, value in vars(planned).items():
                if name in refs:
                    values.append(refs[name][value] if value is not None else None)
                elif name != "instalments":
                    values.append(value() if callable(value) else value)
            if isinstance(planned, _Party):
                # The same blind index as the intake service, so repeat detection finds these parties.
                values.append(blind_index(f"{planned.kind}:{planned.id_number}") if planned.id_number else "")
            children[type(planned)].append(tuple(values))
    _insert(CaseEvent, [*event_columns, "version", "data"], events)
    for planned_type, rows in children.items():
        model = MODEL_OF[planned_type]
        columns = ["case_id", "region_code"]
        columns += [
            f"{f.name}_id" if f.name in refs else f.name for f in fields(planned_type) if f.name != "instalments"
        ]
        _insert(model, columns + (["id_index"] if model is Party else []), rows)
    agreement_pk = _pk(Agreement, "case_id", (case_pk[c.number] for c in cases if c.agreement))
    _insert(
        Instalment,
        ["agreement_id", "region_code", *(f.name for f in fields(_Instalment))],
        [
            (agreement_pk[case_pk[c.number]], c.region, *vars(i).values())
            for c in cases
            if c.agreement
            for i in c.agreement.instalments
        ],
    )
    _advance_sequences(cases)


def _adapter(field: Any) -> Callable[[Any], Any] | None:
    """How a value of the field becomes a query parameter: the backend's own adapters, called directly."""
    ops = connection.ops
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value  # encrypts
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return functools.partial(
            ops.adapt_decimalfield_value, max_digits=field.max_digits, decimal_places=field.decimal_places
        )
    if isinstance(field, models.JSONField):
        return functools.partial(ops.adapt_json_value, encoder=field.encoder)
    return None  # text, numbers, booleans and keys go as they are


def _insert(model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """A raw bulk insert (COPY on PostgreSQL): rows as tuples, adapted per column, no model instances."""
    if not rows:
        return
    ops = connection.ops
    adapters = [_adapter(model._meta.get_field(c.removesuffix("_id") if c.endswith("_id") else c)) for c in columns]
    table, names = ops.quote_name(model._meta.db_table), ", ".join(ops.quote_name(c) for c in columns)
    adapted = (
        tuple(v if adapt is None or v is None else adapt(v) for v, adapt in zip(row, adapters, strict=True))
        for row in rows
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in adapted:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - our names
        while batch := list(itertools.islice(adapted, BATCH)):
            cursor.executemany(sql, batch)


MODEL_OF: dict[type[Any], type[models.Model]] = {
    _Party: Party,
    _Assignment: Assignment,
    _Session: MediationSession,
    _Agreement: Agreement,
    _Referral: CourtReferral,
    _FollowUp: FollowUp,
    _Supervision: Supervision,
    _Coordination: CoordinationRequest,
}
USER_FIELDS = ("assigned_by", "signed_by", "recorded_by", "by", "requested_by", "issuer")
ORG_FIELDS = ("org", "court", "target_org", "from_org", "to_org")


def _event_data(event: _Event, names: dict[str, str]) -> dict[str, Any]:
    """The event's data with what was known only once every document was numbered."""
    data = dict(event.data)
    sup = data.pop("_supervision", None)
    why = data.pop("_reason", None)
    if why is not None:
        data["reason"] = why()
    if sup is None:
        return data
    if event.kind == "supervision":
        name = names.get(sup.kind) or str(Supervision.Kind(sup.kind).label)
        return {"kind": sup.kind, "name": name, "number": sup.number, **data, "reason": sup.reason()}
    return {"number": sup.number, **data}


def _advance_sequences(cases: list[_Case]) -> None:
    """Raise each county-day counter to the last number used, so live intake continues after it."""
    used: dict[tuple[str, datetime.date], int] = defaultdict(int)
    for c in cases:
        key = (c.county, datetime.date(int(c.number[6:10]), int(c.number[10:12]), int(c.number[12:14])))
        used[key] = max(used[key], int(c.number[14:]))
    days = {day for _county, day in used}
    stored = {
        (s.county, s.day): s
        for s in CaseNumberSequence.objects.filter(
            county__in={county for county, _day in used}, day__gte=min(days), day__lte=max(days)
        )
    }
    behind = [s for key, s in stored.items() if key in used and s.last < used[key]]
    for s in behind:
        s.last = used[s.county, s.day]
    CaseNumberSequence.objects.bulk_update(behind, ["last"], batch_size=BATCH)
    CaseNumberSequence.objects.bulk_create(
        [
            CaseNumberSequence(county=county, day=day, last=last)
            for (county, day), last in used.items()
            if (county, day) not in stored
        ],
        batch_size=BATCH,
    )


def _usernames(cases: list[_Case]) -> set[str]:
    names: set[str] = set()
    for c in cases:
        names.add(c.owner)
        names.update(e.actor for e in c.events if e.actor)
        names.update(a.assigned_by for a in c.assignments)
        names.update(s.recorded_by for s in c.sessions)
        names.update(f.by for f in c.follow_ups)
        names.update(q.requested_by for q in c.coordinations)
        if c.agreement:
            names.add(c.agreement.recorded_by)
    return names


def _org_codes(cases: list[_Case]) -> set[str]:
    codes: set[str] = set()
    for c in cases:
        codes.update(a.org for a in c.assignments)
        codes.update(r.court for r in c.referrals)
        codes.update(s.target_org for s in c.supervisions if s.target_org)
        codes.update(x for q in c.coordinations for x in (q.from_org, q.to_org))
    return codes
