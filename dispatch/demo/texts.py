"""What the demo's people say: complaints, replies, reasons and notes, in the hotline's words.

Plain data. ``{addr}`` in a complaint is replaced by the case's address. Categories not
listed under ``COMPLAINTS`` fall back to their group's texts, then to ``GENERIC``.
"""

from __future__ import annotations

COMPLAINTS: dict[str, tuple[str, ...]] = {
    "water.outage": (
        "{addr}从早上开始停水，没有看到任何停水通知，家里老人孩子生活不便，请尽快恢复供水。",
        "{addr}整栋楼停水已经一天了，物业说是管网问题，请供水公司尽快处理。",
    ),
    "water.pressure": ("{addr}高层住户水压很低，早晚高峰基本没水，希望加压处理。",),
    "water.leak": ("{addr}路边地面一直往外冒水，已经流了好几个小时，浪费严重。",),
    "water.quality": ("{addr}自来水发黄有异味，烧开后有沉淀，担心影响健康。",),
    "gas.smell": ("{addr}楼道里有很重的燃气味，怀疑燃气泄漏，请立即派人处理！",),
    "gas.supply": ("{addr}燃气突然停了，做不了饭，也没有接到停气通知。",),
    "gas.billing": ("燃气表读数和实际用量不符，这个月燃气费比平时多出三倍，要求核查。",),
    "power.outage": (
        "{addr}小区停电两个多小时了，冰箱里的东西都要坏了，请尽快抢修。",
        "{addr}一到晚上就跳闸停电，已经连续三天，请供电部门检查线路。",
    ),
    "power.wiring": ("{addr}有人从楼上私拉电线给电动车充电，存在火灾隐患。",),
    "heat.cold": (
        "{addr}暖气不热，室内温度只有十四五度，已经交了采暖费，要求达标供暖。",
        "{addr}整个单元暖气都是凉的，家里有老人，请热力公司尽快处理。",
    ),
    "heat.leak": ("{addr}楼道暖气管道漏水，地面结冰，容易滑倒。",),
    "telecom.broadband": ("{addr}宽带断网三天了，报修后一直没人上门，影响孩子上网课。",),
    "telecom.cable": ("{addr}路边通信线缆垂落到地面，行人和车辆容易被绊倒。",),
    "bus.service": ("乘坐公交时司机态度恶劣，乘客还没下完车就关门起步。",),
    "bus.stop": ("{addr}公交站台顶棚破损，下雨天无处避雨，请尽快维修。",),
    "road.pothole": (
        "{addr}路面有一个大坑，晚上看不清，已经有电动车摔倒了。",
        "{addr}道路坑洼不平，雨天积水严重，车辆通行困难。",
    ),
    "road.streetlight": ("{addr}路灯一整排都不亮，晚上出行很不安全。",),
    "road.manhole": ("{addr}井盖缺失，只用一块木板盖着，非常危险，请立即处理。",),
    "road.drain": ("{addr}雨水井被堵，一下雨就积水，影响通行。",),
    "city.stall": ("{addr}路口每天晚上都有流动摊贩占道经营，油烟大，堵塞交通。",),
    "city.noise": (
        "{addr}工地每天夜里施工到凌晨，噪音很大，严重影响休息。",
        "{addr}附近工地夜间打桩，孩子无法入睡，请执法部门查处。",
    ),
    "city.garbage": ("{addr}垃圾桶已经满溢好几天了，没人清运，气味很大。",),
    "city.building": ("{addr}一楼住户在绿地上违章搭建彩钢房，影响其他居民通行。",),
    "city.billboard": ("{addr}沿街商铺违规设置大型广告牌，大风天存在坠落隐患。",),
    "property.service": (
        "{addr}物业不作为，楼道卫生没人打扫，门禁坏了一个月也不修。",
        "{addr}物业擅自上调物业费，业主不同意，要求查处。",
    ),
    "property.elevator": ("{addr}电梯经常停运，老人上下楼非常困难，物业一直拖着不修。",),
    "property.fund": ("小区申请使用公共维修资金维修屋面防水，流程迟迟没有进展。",),
    "housing.arrears": ("在{addr}工地干活，包工头拖欠工程款八万元，多次讨要无果。",),
    "env.smoke": ("{addr}楼下饭店油烟直排，家里窗户都不敢开，请环保部门处理。",),
    "env.noise": ("{addr}附近厂房机器噪声日夜不停，影响周边居民生活。",),
    "env.river": ("{addr}旁边的河道漂浮大量垃圾，水面发黑发臭。",),
    "traffic.parking": ("{addr}小区消防通道被车辆长期占用，发生火灾后果不堪设想。",),
    "traffic.signal": ("{addr}路口红绿灯故障，全部闪黄灯，交通混乱。",),
    "market.food": ("在{addr}一家超市买到过期食品，商家拒绝退换。",),
    "market.price": ("{addr}商铺标价和结账价格不一致，涉嫌价格欺诈。",),
    "market.prepaid": ("{addr}健身房突然关门，办的预付卡还有五千多元没有消费，要求退费。",),
    "labor.wages": ("在{addr}一家餐馆工作，老板拖欠三个月工资不发。",),
    "labor.insurance": ("想咨询灵活就业人员如何缴纳社保，以及缴费基数怎么确定。",),
    "green.tree": ("{addr}行道树倾斜严重，随时可能倒下，砸到行人车辆。",),
    "green.lawn": ("{addr}街边绿地被人踩出小路，还有人在里面种菜。",),
    "edu.enrolment": ("孩子明年上小学，想咨询学区划分和入学需要准备哪些材料。",),
    "edu.tutoring": ("在{addr}的校外培训机构交了一年学费，机构停课后拒绝退费。",),
    "health.clinic": ("在社区卫生服务中心就诊时医生态度冷漠，排队时间过长。",),
    "community.facility": ("{addr}小区健身器材损坏，有尖锐的断口，孩子玩耍很危险。",),
    "other.consult": (
        "咨询办理居住证需要哪些材料，在哪里办理。",
        "咨询老年人乘车优惠卡的办理条件和地点。",
    ),
}
GENERIC = ("{addr}存在问题，群众反映强烈，请相关部门尽快处理。",)

ANSWERS = (
    "已按政策口径向来电人解释清楚，来电人表示理解。",
    "已告知来电人办理地点、所需材料和咨询电话。",
)
RESOLUTIONS = (
    "已安排工作人员到现场处置，问题已解决，并已电话告知诉求人。",
    "经现场核实，问题属实，已完成整改，诉求人表示认可。",
    "已联系相关单位协调处理，问题基本解决，后续将持续关注。",
    "已到现场查看并向诉求人解释相关政策，诉求人表示理解。",
    "已维修完毕，恢复正常使用。",
)
CONTACT_NOTES = (
    "已电话联系诉求人，约定上门查看时间。",
    "已与诉求人沟通，了解具体情况。",
    "已电话联系，诉求人同意先行现场勘查。",
)
PROGRESS_NOTES = (
    "已到现场勘查，正在制定处置方案。",
    "已联系施工单位，等待材料到位。",
    "正在协调相关单位，预计本周内完成。",
)
RETURN_BASES: dict[str, tuple[str, ...]] = {
    "remit": ("该事项不属于本单位职责范围，建议派往城管执法部门。",),
    "territory": ("经核实，该地址不在本辖区范围内。",),
    "ownership": ("该设施产权单位不明，需先确认权属后再行处置。",),
    "other": ("诉求人提供的信息不完整，无法核实。",),
}
EXTENSION_REASONS = (
    "需要协调多个单位联合处置，申请延期。",
    "维修材料需要采购，申请延期办理。",
    "涉及历史遗留问题，需进一步调查取证。",
)
WHISTLE_REASONS = (
    "问题涉及多个部门职责，街道难以单独解决，吹哨召集相关部门现场会商。",
    "群众多次反映未解决，街道吹哨，请相关部门限时到场报到。",
)
URGE_NOTES = (
    "该工单已超期，请抓紧办理并及时答复。",
    "群众反映强烈，请承办单位加快办理进度。",
)
CALLBACK_NOTES = {
    "satisfied": "诉求人对办理结果满意。",
    "basic": "诉求人表示基本满意。",
    "unsatisfied": "诉求人表示问题没有解决，对办理结果不满意。",
    "none": "多次回访未能接通。",
}
REOPEN_REASONS = ("回访不满意，问题未解决，重新交办。",)
# 双考核: what a street officer writes when rating a summoned department's work.
EVALUATION_NOTES = {
    "satisfied": ("接哨后及时到场，问题已现场解决。", "配合到位，处置迅速。"),
    "basic": ("已到场处置，但整改进度偏慢。", "基本完成，仍需后续跟进。"),
    "unsatisfied": ("报到不及时，问题未能解决。", "推诿扯皮，需再次协调。"),
}
PARK_PLANS = ("涉及历史遗留问题，已制定分步解决方案，纳入年度计划。",)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红春梅海燕"
ROADS = {
    "QH": ("青禾路", "文昌路", "桂香街", "新桥路", "北苑大道"),
    "LA": ("柳岸路", "滨河路", "春晖街", "花园路", "东湖大道"),
}
ESTATES = ("阳光小区", "锦绣家园", "和平里", "幸福苑", "翠湖花园", "金桥公寓", "丰收里")


def complaints_for(category: str) -> tuple[str, ...]:
    if category in COMPLAINTS:
        return COMPLAINTS[category]
    group = category.split(".", 1)[0] + "."
    related = [
        text for code, texts in COMPLAINTS.items() if code.startswith(group) for text in texts
    ]
    return tuple(related) or GENERIC
