"""What the demo disputes look like: volumes, kinds, texts and the reasons staff give."""

import datetime
from dataclasses import dataclass, field

from zongzhi.cases.models import (
    OPEN_STATES,
    State,
    Supervision,
)
from zongzhi.demo import places
from zongzhi.demo.plan import XILINHOT

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
