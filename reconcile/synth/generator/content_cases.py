"""Failure modes of a message's text (docs/contact_checks.md): a wrong amount or days
stated, a wrong amount component (principal, interest, fee, penalty), a threat or
police/court term, an ID or card number or an address; each with near misses that must not
be flagged (within tolerance, a rate beside the components, a harmless look-alike, a masked
or invalid number). See RATE_HELP for what each mode does."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from reconcile.synth.generator.builder import CaseBuilder
from reconcile.synth.generator.check_digits import luhn_valid, resident_id_check
from reconcile.synth.generator.clean_cases import clean_collection
from reconcile.synth.generator.ledger import CENT, ZERO, overdue_parts, overdue_view
from reconcile.synth.generator.loans import Itemising
from reconcile.synth.generator.messages import collection_row
from reconcile.synth.generator.wording import (
    AMOUNT_FORMS,
    COMPONENT_FORMS,
    COMPONENT_LABELS,
    COMPONENT_RATES,
    DAYS_FORMS,
    HARMLESS,
    LENDER,
    STREETS,
    THREATS,
)


def wrong_text(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    template, rule, _ = case.staged(r, case.s, loan)
    message = collection_row(values, loan, r, case.s, rule=rule, template=template)
    amount, days = overdue_view(loan, r, case.d_s)
    variant = rng.randrange(8)
    stated_amount, stated_days = amount, days
    if variant in (0, 5):  # a wrong amount
        stated_amount = max(ZERO, amount + rng.choice((
            Decimal("0.02"), Decimal("-0.02"), Decimal("100"), -loan.insts[-1].amount,
            Decimal(rng.randint(3, 99999)) / 100)))
    if variant == 1:  # a cent off: within tolerance
        stated_amount = max(ZERO, amount + rng.choice((CENT, -CENT)))
    if variant in (2, 5, 6):  # wrong days
        stated_days = days + rng.choice((2, -2, 30, rng.randint(3, 90)))
        stated_days = stated_days if stated_days >= 0 else days + 2
    if variant == 3:  # a day off: within tolerance
        stated_days = days + rng.choice((1, -1))
    if variant == 7:  # a wrong amount in another currency form
        stated_amount = amount + Decimal(rng.randint(1, 5000))
    amount_text = f"{stated_amount:,.2f}" if rng.random() < 0.6 else f"{stated_amount:.2f}"
    amount_form = rng.choice(AMOUNT_FORMS).format(a=amount_text)
    if variant == 4:  # digits that run on are no amount: a reference, not the debt
        amount_form = f"{amount:,.2f}元（流水号{stated_amount + 7:.2f}7元）"
    day_word = "day" if stated_days == 1 else "days"
    days_form = rng.choice(DAYS_FORMS).format(d=stated_days, day=day_word)
    if days_form[0].isascii():
        text = (f"[XX Consumer Finance] Dear {case.borrower.name}, your loan is "
                f"{days_form}. Amount due: {amount_form}. Please repay today.")
    else:
        text = f"{LENDER}{case.borrower.name}您好，您的借款已{days_form}，应还{amount_form}，" \
               "请尽快还款。"
    message["message_text"] = text
    case.add(message)


COMPONENT_VARIANTS = ("right", "cent_off", "wrong", "penalty_not_in_ledger", "not_itemised",
                      "rate_beside")


def components(case: CaseBuilder) -> None:
    """A collection text stating what the overdue amount is made of (本金, 利息, 服务费, 罚息;
    principal, interest, service fee, late fee): as the ledger itemises it, one component a
    cent off (within tolerance) or off by more, a penalty the ledger does not have,
    components of a ledger that itemises none; or right, beside a rate (0.05%/日), which
    states no amount."""
    values, rng = case.values, case.rng
    r = values.dq_run
    variant = rng.choice(COMPONENT_VARIANTS)
    itemised = variant != "not_itemised"
    penalty = variant != "penalty_not_in_ledger" and rng.random() < 0.6
    loan, _ = case.overdue_loan(r, itemising=Itemising(
        components=itemised, allocated=itemised, penalty=penalty, named=rng.random() < 0.3))
    template, rule, _ = case.staged(r, case.s, loan)
    message = collection_row(values, loan, r, case.s, rule=rule, template=template)
    amount, days = overdue_view(loan, r, case.d_s)
    stated = stated_parts(case, variant, overdue_parts(loan, r, case.d_s), amount)
    message["message_text"] = component_text(case, amount, days, stated,
                                             rate=variant == "rate_beside")
    case.add(message)


def stated_parts(case: CaseBuilder, variant: str, parts: dict[str, Decimal],
                 amount: Decimal) -> dict[str, Decimal]:
    """The components a text states: those overdue, one of them changed by the variant (the
    whole amount called principal when the ledger itemises nothing)."""
    rng = case.rng
    if variant == "not_itemised":
        return {"principal": amount}
    stated = {name: value for name, value in parts.items() if value > ZERO}
    if variant == "penalty_not_in_ledger":
        return {**stated, "penalty": Decimal(rng.randint(500, 20000)) / 100}
    name = rng.choice(list(stated) or ["principal"])
    value = stated.get(name, ZERO)
    if variant == "cent_off":
        delta = rng.choice((CENT, -CENT))
    elif variant == "wrong":
        delta = rng.choice((Decimal("0.02"), Decimal("-0.02"), Decimal(100),
                            Decimal(rng.randint(3, 99999)) / 100))
    else:
        return stated
    stated[name] = value + delta if value + delta >= 0 else value - delta
    return stated


def component_text(case: CaseBuilder, amount: Decimal, days: int, stated: dict[str, Decimal],
                   rate: bool) -> str:
    """A collection text, in Chinese or English, stating the overdue amount and days and,
    labelled, the components `stated` (and a rate beside them)."""
    rng = case.rng
    language = "en" if rng.random() < 0.35 else "cn"
    items = [component_phrase(rng, language, name, value) for name, value in stated.items()]
    if rate:
        items.append(rng.choice(COMPONENT_RATES[language]))
    name = case.borrower.name
    if language == "cn":
        return (f"{LENDER}{name}您好，您的借款已逾期{days}天，应还金额{amount:,.2f}元，"
                f"其中{'，'.join(items)}，请尽快还款。")
    return (f"[XX Consumer Finance] Dear {name}, your loan is {days} "
            f"{'day' if days == 1 else 'days'} overdue. Amount due: RMB {amount:,.2f}, "
            f"including {', '.join(items)}. Please repay today.")


def component_phrase(rng: random.Random, language: str, name: str, value: Decimal) -> str:
    """A labelled amount: component `name` worth `value`, in one of the language's forms."""
    label = rng.choice(COMPONENT_LABELS[language][name])
    written = f"{value:,.2f}" if rng.random() < 0.6 else f"{value:.2f}"
    return rng.choice(COMPONENT_FORMS[language]).format(label=label, a=written)


def prohibited(case: CaseBuilder) -> None:
    rng = case.rng
    clean_collection(case)
    append_to_first_text(case, rng.choice(THREATS if rng.random() < 0.65 else HARMLESS))


def privacy(case: CaseBuilder) -> None:
    rng = case.rng
    clean_collection(case)
    variant = rng.randrange(9)
    if variant == 0:
        sentence = f"您登记的身份证号为{resident_id(rng, valid=True)}。"
    elif variant == 1:
        sentence = f"您登记的身份证号为{resident_id(rng, valid=False)}。"
    elif variant == 2:
        sentence = f"请向尾号为{card_number(rng, True, '')[-4:]}的银行卡存入款项。"
    elif variant == 3:
        sentence = f"还款账户卡号{card_number(rng, True, rng.choice(('', ' ', '-')))}。"
    elif variant == 4:
        sentence = f"还款账户卡号{card_number(rng, False, rng.choice(('', ' ', '-')))}。"
    elif variant == 5:
        sentence = f"扣款卡****{rng.randint(0, 9999):04d}余额不足。"
    elif variant == 6:
        sentence = rng.choice(("我司工作人员将前往", "请携带证件至")) + \
            f"{rng.choice(STREETS)}{rng.choice(('路', '街', '大道', '巷'))}" \
            f"{rng.randint(1, 999)}号。"
    elif variant == 7:
        sentence = f"您登记的地址为{rng.choice(STREETS)}小区{rng.randint(1, 30)}" \
            f"{rng.choice(('号楼', '栋'))}{rng.randint(1, 28)}{rng.randint(1, 4):02d}" \
            f"{rng.choice(('室', '单元'))}。"
    else:
        sentence = f" Mail: {rng.randint(1, 9999)} {rng.choice(('Main', 'Oak', 'Park'))} " \
            f"{rng.choice(('Street', 'St', 'Avenue', 'Rd', 'Blvd'))}."
    append_to_first_text(case, sentence)


def append_to_first_text(case: CaseBuilder, sentence: str) -> None:
    """The case's first message's text, with `sentence` added at its end."""
    case.messages[0]["message_text"] = (case.messages[0]["message_text"] or "") + sentence


def resident_id(rng: random.Random, valid: bool) -> str:
    """An 18-character resident ID (area, birth date, sequence, check character); an invalid
    one has a wrong check character and no digit run that passes the Luhn check either."""
    while True:
        birth = date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))
        body = (rng.choice(("110105", "310104", "440305", "330106", "510107"))
                + f"{birth:%Y%m%d}{rng.randint(1, 999):03d}")
        check = resident_id_check(body)
        if valid:
            return body + check
        wrong = rng.choice([c for c in "0123456789X" if c != check])
        run = body if wrong == "X" else body + wrong
        if not luhn_valid(run):
            return body + wrong


def card_number(rng: random.Random, valid: bool, separator: str) -> str:
    """A 16-digit bank card number, Luhn-valid or not, in groups of four."""
    body = rng.choice(("622202", "621700", "436742", "622848")) + \
        "".join(str(rng.randint(0, 9)) for _ in range(9))
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    digits = body + check
    return separator.join(digits[i:i + 4] for i in range(0, 16, 4))
