"""The words a drop's messages and people are made of: Chinese and pinyin names, the
lender's message wordings, the forms a text states an amount or days in, threats and their
harmless look-alikes, street names."""

from __future__ import annotations

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯健俊帆"
    "帅旭宁琳晨欣怡佳雪梅颖婷倩琴云莉丹阳海波峰亮宏林雷龙飞鑫"
)
LENDER = "【XX消费金融】"
# Message wording by kind; {name}, {amount} (with thousands separators), {days}, {due}.
WORDING = {
    # A reminder states no amount: CONTENT_MISMATCH compares every stated amount with the
    # overdue amount, which is 0 before the due date.
    "reminder": "{lender}{name}您好，您的本期账单将于{due}到期，请按时还款。",
    "pre_due": "{lender}{name}您好，您的借款应还金额{amount}元，请立即还款，"
               "逾期将影响您的信用记录。",
    "escalation": "{lender}{name}您好，您的借款已逾期{days}天，欠款{amount}元，"
                  "已转入委外催收，请于今日内处理。",
    "collection": "{lender}{name}您好，您的借款已逾期{days}天，应还金额{amount}元，"
                  "请尽快还款，以免影响您的个人信用记录。",
}
# Other wordings of a collection message, each stating the amount in another form.
COLLECTION_VARIANTS = (
    "{lender}{name}您好，您在我司的借款已逾期{days}天，待还¥{amount}，请今日内还款。",
    "{lender}尊敬的{name}，截至今日您的账户逾期 {days} 天，欠款 RMB {amount}，请及时处理。",
    "{lender}{name}您好，您的借款已逾期{days}日，应还￥{amount}，请尽快还款。",
    "[XX Consumer Finance] Dear {name}, your loan is {days} {day_word} overdue. Amount due: "
    "RMB {amount}. Please repay today.",
)
OPT_OUT_SUFFIXES = ("退订回T", "回复TD退订", "拒收请回复R")
PINYIN_SURNAMES = ("Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Zhao", "Huang")
PINYIN_GIVEN = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan Ting")
# How a text states an amount and days overdue (docs/contact_checks.md, "How text is read").
AMOUNT_FORMS = ("{a}元", "{a} 元", "¥{a}", "￥{a}", "¥ {a}", "RMB {a}", "RMB{a}", "CNY {a}",
                "${a}")
DAYS_FORMS = ("逾期{d}天", "逾期 {d} 天", "逾期{d}日", "{d} {day} overdue", "{d} {day} past due",
              "overdue by {d} {day}", "overdue for {d} {day}")
# How a collection text states an amount's components (docs/inputs.md, "Amount
# components"), in Chinese ("cn") and English ("en"): the labels of each component, the
# forms of a labelled amount {a}, and rates beside them (a labelled percentage states no
# amount).
COMPONENT_LABELS = {
    "cn": {"principal": ("本金",), "interest": ("利息",), "fee": ("服务费",),
           "penalty": ("罚息", "违约金", "滞纳金")},
    "en": {"principal": ("principal",), "interest": ("interest",),
           "fee": ("service fee", "a service fee"),
           "penalty": ("penalty interest", "penalty", "a late fee")},
}
COMPONENT_FORMS = {
    "cn": ("{label}{a}元", "{label} {a} 元", "{label}：{a}元", "{label}为{a}元", "{label}¥{a}",
           "{label}是RMB {a}"),
    "en": ("{label} of ¥{a}", "{label}: RMB {a}", "{label} of {a}", "{label} ${a}",
           "{label} {a}"),
}
COMPONENT_RATES = {
    "cn": ("逾期罚息为0.05%/日", "违约金：0.05％/日"),
    "en": ("penalty interest: 0.05% per day", "a late fee of 5% applies"),
}
# Threats and impersonation (simplified, traditional, English), and look-alikes that are not.
THREATS = (
    "逾期不还将通知您的家人。", "如不还款，我们将联系你的单位并上门催收。", "您已被列入黑名单。",
    "拒不还款将移交公安机关，并承担刑事责任。", "再不还款将曝光您的通讯录。", "法院传票即将送达。",
    "逾期不還將上門催收。", "已將您列入黑名單。", "將聯繫你的單位。", "將曝光您的通訊錄。",
    "法院傳票即將送達。", "須承擔刑事責任。", " Failure to pay may lead to your ARREST.",
    " We will contact the police.", " A warrant may be issued.",
)
HARMLESS = (
    "因春节办公安排调整，客服时间有变。", "因春節辦公安排調整，客服時間有變。",
    "如有疑问请联系客服。",
    "（APP头像曝光度已自动调整）", " See our privacy policy.", " Payments are processed daily.",
)
STREETS = ("中山", "人民", "解放", "建设", "和平", "长江", "南京东")
