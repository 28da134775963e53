"""The words the reports use, in each language they speak: defined once, read by every format.

Every flag, verdict and column has a plain-language name and a one-line explanation in
Simplified Chinese (zh-CN) and English (en): a flag's come from its check file's header
(`reconcile.checks`); `tests/test_vocabulary.py` holds every outcome to having both.
Phrases (headings, notes) are looked up by key with `phrase(key, lang)`; a phrase may hold
`{name}` fields to format.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.checks import CHECKS
from reconcile.config import REPORT_LANGUAGES as LANGUAGES
from reconcile.errors import ConfigError

__all__ = ["LANGUAGES", "Term", "check_language", "column", "flag_name", "outcome_name",
           "phrase"]


@dataclass(frozen=True)
class Term:
    """A name and a one-line explanation, in Chinese and in English."""

    zh: str
    en: str
    zh_explained: str
    en_explained: str

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en

    def explained(self, lang: str) -> str:
        return self.zh_explained if lang == "zh-CN" else self.en_explained


# Each flag's name and explanation come from its check file's header (reconcile.checks).
FLAG_TERMS: dict[str, Term] = {
    check.flag: Term(check.zh_name, check.en_name, check.zh_explained, check.en_explained)
    for check in CHECKS.values()
}

OUTCOME_TERMS: dict[str, Term] = {
    "send": Term("发送", "send", "未发现问题，可以发送。", "Nothing found: may go out."),
    "hold": Term("暂缓", "hold", "有疑点，先暂缓，人工核实后再定。",
                 "In doubt: kept back until someone checks it."),
    "block": Term("拦截", "block", "确认不应发送。", "Must not go out."),
    "rejected": Term("退回", "rejected", "这一行本身无法读取（缺字段或格式错误），未判断。",
                     "The row itself could not be read (missing or malformed field)."),
}

COLUMN_TERMS: dict[str, Term] = {
    "rule": Term("规则", "rule", "选中这条短信的催收规则。", "The rule that chose the message."),
    "template": Term("模板", "template", "短信所用模板。", "The message's template."),
    "messages": Term("短信数", "messages", "计划发送的短信行数（含退回）。",
                     "Planned send_batch rows, rejected ones included."),
    "block": Term("拦截", "block", "被拦截的短信数。", "Messages blocked."),
    "hold": Term("暂缓", "hold", "被暂缓的短信数。", "Messages held."),
    "false_positives": Term("误发数", "false positives", "拦截与暂缓之和。",
                            "Blocked plus held."),
    "rate": Term("误发率", "FP rate", "误发数 ÷ 短信数。", "False positives ÷ messages."),
    "previous": Term("上一晚", "last night", "上一晚的同一指标。",
                     "The same figure the night before."),
    "median_7": Term("7 晚中位数", "7-night median", "最近 7 个已记录夜晚的中位数。",
                     "Median over the last 7 recorded nights."),
    "median_before": Term("前 7 晚中位数", "median of 7 before",
                          "本晚之前最近 7 个已记录夜晚的中位数。",
                          "Median over the 7 recorded nights before tonight."),
    "median_30": Term("30 晚中位数", "30-night median", "最近 30 个已记录夜晚的中位数。",
                      "Median over the last 30 recorded nights."),
    "now": Term("本晚", "tonight", "本次运行的指标。", "This run's figure."),
    "change": Term("变化", "change", "本晚减去上一晚。", "Tonight minus last night."),
    "share": Term("占比", "share", "占全部计划短信的比例。", "Share of all planned rows."),
    "measure": Term("指标", "measure", "比较的指标。", "The figure compared."),
    "night": Term("日期", "night", "核对所属的本地日期。", "The local night reconciled."),
    "median_hours": Term("中位小时", "median h", "规则数据时长的中位数（小时）。",
                         "Median age of the rule's data, hours."),
    "max_hours": Term("最大小时", "max h", "规则数据时长的最大值（小时）。",
                      "Largest age of the rule's data, hours."),
    "trend": Term("走势", "trend", "最近若干晚的误发率。",
                  "The false-positive rate over recent nights."),
    "phone": Term("手机号", "phone", "收件号码（已遮盖或假名化）。",
                  "The recipient's phone (masked or pseudonymised)."),
    "name": Term("姓名", "name", "短信中的借款人姓名（已遮盖）。",
                 "The borrower's name in the message (masked)."),
    "loan": Term("借据", "loan", "借据编号。", "The loan id."),
    "ledger": Term("账务", "ledger", "账务上的逾期金额与天数。",
                   "Overdue amount and days on the ledger."),
    "claimed": Term("规则所称", "claimed", "规则声称的逾期金额与天数。",
                    "Overdue amount and days the rule claimed."),
    "flags": Term("标记", "flags", "这条短信触发的全部标记。",
                  "Every flag the message carries."),
    "verdict": Term("结论", "verdict", "发送、暂缓、拦截或退回。",
                    "send, hold, block or rejected."),
}

# Headings and notes; `{name}` fields are filled by str.format.
PHRASES: dict[str, tuple[str, str]] = {
    "title": ("reconcile 晨报", "reconcile morning report"),
    "run": ("运行", "run"),
    "as_of": ("核对时点", "as of"),
    "finished": ("完成于", "finished"),
    "drop": ("数据目录", "drop"),
    "previous_night": ("上一晚", "previous night"),
    "none_recorded": ("无记录", "none recorded"),
    "warning": ("警告", "warning"),
    "pii_pseudonymised": ("手机号与姓名已假名化（# 后为其密钥哈希的开头）",
                          "phones and names are pseudonymised (#… starts their keyed hash)"),
    "pii_masked": ("手机号与姓名已遮盖（--show-pii 显示原文）",
                   "phone numbers and names are masked (--show-pii shows them)"),
    "pii_shown": ("手机号与姓名未遮盖（--show-pii）",
                  "phone numbers and names are NOT masked (--show-pii)"),
    "glance": ("一览", "At a glance"),
    "verdict_mix": ("本晚结论", "Tonight's verdicts"),
    "rows_and_fps": ("共 {rows} 条计划短信，误发 {fps} 条（拦截 + 暂缓）。",
                     "{rows} planned messages, {fps} false positives (block + hold)."),
    "changes": ("与上一晚及前 7 晚中位数相比", "Against last night and the 7 nights before"),
    "worst_rules": ("误发率最高或上升最快的规则", "Rules misfiring most, or rising fastest"),
    "worst_rules_note": ("误发率 = 拦截与暂缓 ÷ 规则的全部计划短信；走势为最近 {nights} 晚"
                         "（含本晚）。",
                         "Rate = blocked and held ÷ all the rule's planned rows; the trend "
                         "line covers the last {nights} nights, tonight included."),
    "no_rules": ("本晚没有规则被拦截或暂缓。", "No rule had a message blocked or held tonight."),
    "feed_health": ("数据源健康", "Health of the feeds"),
    "feed_fresh": ("还款数据新鲜度", "Payment feed freshness"),
    "feed_volume": ("数据量检查", "Volume guards"),
    "feed_unplaced": ("无法归属的还款", "Unplaced money"),
    "feed_ok": ("正常", "ok"),
    "feed_problem": ("有问题", "problem"),
    "feed_off": ("已关闭", "switched off"),
    "guard": ("检查", "guard"),
    "status": ("状态", "status"),
    "why": ("原因", "why"),
    "why_highest": ("误发率最高", "highest rate"),
    "why_rising": ("上升最快", "rising fastest"),
    "unchanged_flags": ("另有 {count} 个标记与上一晚持平，未列出。",
                        "{count} flags unchanged since last night are not shown."),
    "top_keys": ("误发最多的 {count} 项；其余见下方表格。",
                 "The {count} with most false positives; the tables below list the rest."),
    "nights_shown": ("最近 {count} 晚", "the last {count} nights"),
    "flags_none": ("另有 {count} 个标记本晚未触发。", "{count} flags were not raised tonight."),
    "medians": ("近 7 晚与近 30 晚的误发率中位数", "Median false-positive rate, 7 and 30 nights"),
    "held_messages": ("{count} 条短信因此暂缓", "{count} messages held for it"),
    "verdicts": ("结论", "Verdicts"),
    "flags": ("标记", "Flags"),
    "flags_note": ("一条短信触发几个标记，就在几个标记下各计一次。",
                   "A message counts under each flag it carries."),
    "rules": ("误发最多的规则", "Rules that misfire most"),
    "templates": ("误发最多的模板", "Templates that misfire most"),
    "fp_definition": ("规则（模板）的误发是其结论为拦截或暂缓的短信；误发率 = 误发数 ÷ "
                      "该规则（模板）的全部计划短信（含退回）。按误发率排序。",
                      "A false positive of a rule or template is one of its messages whose "
                      "verdict is block or hold; its rate is false positives / all of the "
                      "rule's (template's) send_batch rows, rejected ones included. Sorted by "
                      "rate."),
    "more_rows": ("另有 {count} 项未列出", "… and {count} more"),
    "staleness": ("规则数据的时效", "How stale the rules' data was"),
    "staleness_note": ("从规则运行（rule_evaluated_at）到本次核对时点的小时数；超过 "
                       "max_rule_age_hours（默认 24 小时）即触发“数据已过时”。",
                       "Hours from rule_evaluated_at to the run's as-of, per rule; STALE_DATA's "
                       "age clause starts above max_rule_age_hours (24 h by default)."),
    "comparison": ("与上一晚相比", "Compared with the previous night"),
    "no_previous": ("没有更早的记录。", "No earlier night is recorded."),
    "total_messages": ("计划短信", "messages"),
    "total_false_positives": ("误发", "false positives"),
    "trends": ("走势", "Trends"),
    "trends_note": ("最近 {nights} 个已记录夜晚（每晚取其最后一次运行）。",
                    "The last {nights} recorded nights (each night's latest run)."),
    "trend_verdicts": ("结论构成", "Verdict mix"),
    "trend_rules": ("各规则误发率", "False-positive rate by rule"),
    "trend_templates": ("各模板误发率", "False-positive rate by template"),
    "trend_staleness": ("数据时效（小时）", "Staleness lag (hours)"),
    "median_line": ("中位数", "median"),
    "p90_line": ("90 分位", "90th percentile"),
    "trend_one_night": ("只有一晚的记录，尚无走势。", "Only one night is recorded: no trend yet."),
    "last_7": ("近 7 晚", "last 7 nights"),
    "last_30": ("近 30 晚", "last 30 nights"),
    "examples": ("示例", "Examples"),
    "examples_note": ("每个标记最多 {count} 条，每条短信只列一次并附全部标记与证据。",
                      "Up to {count} messages per flag; each message once, with all its flags "
                      "and evidence."),
    "no_examples": ("没有短信触发标记。", "No message carries a flag."),
    "no_id": ("（无编号）", "(no id)"),
    "days": ("{days} 天", "{days} days"),
    "glossary": ("术语", "Glossary"),
    "complaints": ("投诉核对", "Complaints traced"),
    "footer": ("reconcile {version} · 运行 {run}", "reconcile {version} · run {run}"),
    # reconcile trace and reconcile complaints (docs/complaints.md)
    "trace_title": ("reconcile 短信追溯", "reconcile trace"),
    "by_phone": ("手机号", "phone"),
    "by_borrower": ("借款人", "borrower"),
    "by_message": ("短信", "message"),
    "history": ("运行历史", "history"),
    "times_in": ("时间为 {zone} 时区", "times in {zone}"),
    "since": ("自 {night} 起的夜晚", "nights from {night} on"),
    "all_nights": ("全部已记录的夜晚", "every recorded night"),
    "counting_runs": ("每晚只取算数的那次运行", "the run that counts for each night"),
    "all_runs": ("包括同一晚的重跑", "re-runs of a night included"),
    "trace_pii_masked": ("手机号与姓名已遮盖（假名化的显示为 # 加其密钥哈希开头；"
                         "--show-pii 显示明文）",
                         "phones and names are masked (a pseudonymised one shows as # and the "
                         "start of its keyed hash; --show-pii shows clear ones)"),
    "trace_pii_shown": ("明文记录的手机号与姓名未遮盖（--show-pii）",
                        "phones and names recorded in clear are NOT masked (--show-pii)"),
    "pii_always_masked": ("手机号与姓名已遮盖（假名化的显示为 # 加其密钥哈希开头）",
                          "phones and names are masked (a pseudonymised one shows as # and "
                          "the start of its keyed hash)"),
    "message_count": ("共 {count} 条计划短信", "{count} planned messages"),
    "no_messages": ("历史中没有发给此人的计划短信。",
                    "No planned message to this person is recorded in the history."),
    "borrower": ("借款人", "borrower"),
    "scheduled": ("计划发送", "scheduled"),
    "superseded": ("已被同晚的重跑取代", "superseded by a later run of the night"),
    "no_flags": ("无标记", "no flag"),
    "reason": ("原因", "reason"),
    "complaints_title": ("reconcile 投诉核对", "reconcile complaints"),
    "complaints_count": ("共 {count} 件投诉", "{count} complaints"),
    "complaints_file": ("投诉文件", "complaints"),
    "window": ("时间窗：每件投诉之前 {days} 天", "window: {days} days before each complaint"),
    "dispatch_log": ("发送记录", "dispatch log"),
    "no_dispatch_log": ("无发送记录：视为发送方按结论执行（发送即发出，暂缓、拦截、退回即未发出）",
                        "no dispatch log: the dispatcher is taken to follow the verdicts "
                        "(send went out; hold, block and rejected did not)"),
    "complaint": ("投诉", "complaint"),
    "complaints_column": ("投诉数", "complaints"),
    "received": ("收到于", "received"),
    "category": ("类别", "category"),
    "class": ("归类", "class"),
    "dispatched": ("已发出", "dispatched"),
    "not_dispatched": ("未发出", "not dispatched"),
    "sent_at": ("发送于", "sent at"),
    "complaint_night": ("归入 {night}", "counted under {night}"),
    "summary": ("汇总", "Summary"),
    "by_class": ("按归类", "Complaints by class"),
    "misses_by_rule": ("漏判（无标记发出）按规则", "Misses (sent clean messages) by rule"),
    "misses_by_template": ("漏判（无标记发出）按模板", "Misses (sent clean messages) by template"),
    "no_misses": ("没有无标记发出的短信。", "No message was sent clean."),
    "by_night": ("逐晚的投诉归类", "Complaints by class, night by night"),
    "by_night_note": ("每件投诉计入决定其归类的最晚一条短信的夜晚；"
                      "从未计划的计入收到投诉的本地日期。",
                      "Each complaint counts under the night of the latest message that gave it "
                      "its class; a never-planned one under the local date it was received."),
    "no_complaints": ("文件中没有投诉。", "The file holds no complaint."),
    "class_sent_with_flag": ("带标记仍发出", "sent with a flag"),
    "class_sent_with_flag_note": (
        "带着标记或结论不是发送却仍发出：发送方没有照结论执行，或该标记被配置为发送。",
        "Sent although it carried a flag or its verdict was not send: the dispatcher "
        "ignored a verdict, or the flag is mapped to send."),
    "class_sent_clean": ("无标记发出", "sent clean"),
    "class_sent_clean_note": (
        "结论为发送、没有标记且已发出：reconcile 的漏判，或本就是正当的催收。",
        "Sent, verdict send, no flag: a miss of reconcile, or a rightful collection."),
    "class_stopped": ("已拦下", "stopped"),
    "class_stopped_note": (
        "reconcile 暂缓、拦截或退回了它，且它没有发出。",
        "reconcile held, blocked or rejected it, and it was not sent."),
    "class_not_sent": ("未发出", "not sent"),
    "class_not_sent_note": (
        "结论为发送，但发送记录里没有它（仅在提供发送记录时）。",
        "Verdict send, but the dispatch log does not list it (only with a dispatch log)."),
    "class_never_planned": ("从未计划", "never planned"),
    "class_never_planned_note": (
        "投诉之前的时间窗内没有发给此人的计划短信。",
        "No message to this person was planned in the window before the complaint."),
}


def check_language(lang: str) -> str:
    """lang when the reports speak it; else a usage error (exit 2)."""
    if lang not in LANGUAGES:
        raise ConfigError(f"must be one of {', '.join(LANGUAGES)}, got {lang!r}",
                          parameter="lang")
    return lang


def phrase(key: str, lang: str, **fields: object) -> str:
    zh, en = PHRASES[key]
    text = zh if lang == "zh-CN" else en
    return text.format(**fields) if fields else text


def flag_name(flag: str, lang: str) -> str:
    """A flag's plain name; an unknown flag (from a newer history) shows as recorded."""
    term = FLAG_TERMS.get(flag)
    return term.name(lang) if term else flag


def outcome_name(outcome: str, lang: str) -> str:
    term = OUTCOME_TERMS.get(outcome)
    return term.name(lang) if term else outcome


def column(key: str, lang: str) -> str:
    return COLUMN_TERMS[key].name(lang)
