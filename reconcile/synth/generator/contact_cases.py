"""Failure modes of contact policy (docs/contact_checks.md): quiet hours, too many
messages a day, duplicates, contact flags, a phone or name not the borrower's, malformed
contact rows; each with near misses that must not be flagged (21:59, an expired flag, the
same number written +86, ...). See RATE_HELP for what each mode does."""

from __future__ import annotations

from datetime import datetime, timedelta

from reconcile.synth.generator.builder import CaseBuilder
from reconcile.synth.generator.clean_cases import clean_collection
from reconcile.synth.generator.lender import RESTRICTING_FLAGS
from reconcile.synth.generator.messages import collection_row, message_row
from reconcile.synth.generator.wording import PINYIN_GIVEN, PINYIN_SURNAMES


def quiet_hours(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    today, tomorrow = values.send_day, values.send_day + timedelta(days=1)
    variant = rng.randrange(9)
    if variant == 0:
        s = case.at_clock(today, 22, 0)  # the first minute of quiet hours
    elif variant == 1:
        s = case.at_clock(today, 21, 59, rng.choice((0, 59)))  # still allowed
    elif variant == 2:
        s = case.at_clock(today, rng.randint(22, 23), rng.randint(0, 59))
    elif variant == 3:
        s = case.at_clock(tomorrow, 7, 59, rng.choice((0, 59)))  # 23:59 UTC the day before
    elif variant == 4:
        s = case.at_clock(tomorrow, 8, 0)  # the first allowed minute
    elif variant == 5:
        s = case.at_clock(tomorrow, rng.randint(0, 6), rng.randint(0, 59))
    elif variant == 6:  # the borrower lives in Xinjiang time (UTC+6): 09:59 is 07:59
        s = case.at_clock(today, rng.choice((9, 10)), 59 if rng.random() < 0.5 else 0)
        case.zones = ["Asia/Urumqi"]
    elif variant == 7:  # in Tokyo (UTC+9): 21:00 Beijing time is 22:00 there
        s = case.at_clock(today, rng.choice((20, 21)), rng.choice((0, 59)))
        case.zones = ["Asia/Tokyo"]
    else:  # two zones on file: outside the window in either holds
        s = case.at_clock(today, rng.choice((15, 16, 17)), 30)
        case.zones = ["Asia/Shanghai", rng.choice(("Europe/London", "America/New_York"))]
    case.s, case.d_s = s, s.date()
    clean_collection(case)


def frequency(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loans = [case.overdue_loan(r, partial=0.1)[0] for _ in range(rng.choice((1, 2, 2, 3)))]
    slots = []
    for loan in loans:
        template, rule, _ = case.staged(r, case.s, loan)
        slots += [(loan, template, rule), (loan, "TPL_COL_GEN", "RULE_DPD_GEN")]
    rng.shuffle(slots)
    count = min(len(slots), rng.choice((2, 3, 3, 4, 4, 5)))
    start = case.at_clock(case.d_s, 8, 0)
    times = sorted(start + values.minutes(0, 12 * 60) for _ in range(count))
    if count > 1 and rng.random() < 0.2:
        times[1] = times[0]  # the same minute: the row order decides
    if rng.random() < 0.15:
        times[-1] += timedelta(days=1)  # tomorrow's cap, not today's
    for (loan, template, rule), s in zip(slots, times, strict=False):
        case.add(collection_row(values, loan, r, s, rule=rule, template=template))
    if rng.random() < 0.3:
        rng.shuffle(case.messages)  # written out of time order
    if rng.random() < 0.3:  # a reminder too: reminders are not counted
        loan, k = case.new_loan(-rng.randint(0, 3), values.rule_runs["RULE_REM_D3"], partial=0)
        case.add(message_row(values, loan.loan_id, loan.borrower, "TPL_REM_PRE", "RULE_REM_D3",
                             values.rule_runs["RULE_REM_D3"], times[0] + values.minutes(1, 60),
                             None, 0, "reminder", due=loan.insts[k - 1].due))
    # Messages already sent today (an earlier wave), some never delivered.
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        loan, template, _ = rng.choice(slots)
        sent = times[0] - values.minutes(1, 120) if rng.random() < 0.7 else \
            rng.choice(times)  # at a batch message's very time: it counts (sent <= s)
        status = rng.choice(("delivered", "delivered", "delivered", "sent", None, "failed",
                             "cancelled", "rejected"))
        case.history.append(case.history_row(
            loan.loan_id, max(sent, start), rng.choice((template, template,
                                                        "TPL_REM_PRE")), status))


def duplicate(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    template, rule, _ = case.staged(r, case.s, loan)
    first = collection_row(values, loan, r, case.s, rule=rule, template=template)
    copy = {**first, "message_id": values.message_id()}
    variant = rng.randrange(5)
    if variant == 0:  # queued twice for the same minute: the second row is the copy
        rows = [first, copy]
    elif variant == 1:  # re-queued later
        copy["scheduled_at"] = values.render(case.s + values.minutes(5, 60))
        rows = [first, copy]
    elif variant == 2:  # re-queued later but written first: the later one is the copy
        copy["scheduled_at"] = values.render(case.s + values.minutes(5, 60))
        rows = [copy, first]
    elif variant == 3:  # the general rule's template: not the same message
        rows = [first, collection_row(values, loan, values.rule_runs["RULE_DPD_GEN"],
                                      case.s + values.minutes(0, 30), rule="RULE_DPD_GEN",
                                      template="TPL_COL_GEN")]
    else:  # the other copy is unreadable (rejected): nothing earlier to duplicate
        copy["scheduled_at"] = f"{case.s:%Y/%m/%d %H:%M}"
        rows = [copy, first]
    if rng.random() < 0.25:
        rows.append({**first, "message_id": values.message_id()})  # a third time
    for row in rows:
        case.add(row)


def restricted(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    clean_collection(case)
    s = case.s

    def days() -> timedelta:
        return timedelta(days=rng.randint(1, 120), seconds=rng.randint(0, 86399))

    kind = rng.choice(RESTRICTING_FLAGS)
    until: datetime | None = None
    variant = rng.randrange(8)
    if variant == 0:  # active, open-ended
        since = s - days()
    elif variant == 1:  # starts at the very instant of the send: active
        since = s
    elif variant == 2:  # ends at the very instant of the send (exclusive): not active
        since, until = s - days(), s
    elif variant == 3:  # expired
        until = s - days()
        since = until - days()
    elif variant == 4:  # not yet started
        since = s + values.minutes(1, 3000)
    elif variant == 5:  # a complaint is informational
        kind, since = "complaint_open", s - days()
    elif variant == 6:  # active until later
        since, until = s - days(), s + days()
    else:  # an expired flag and an active one
        case.contact_flags.append(case.flag_row(kind, s - 2 * days() - days(),
                                                s - 2 * days()))
        since = s - days()
    case.contact_flags.append(case.flag_row(kind, since, until))


def wrong_phone(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    clean_collection(case)
    b = case.borrower
    row = case.borrower_row(b.name, b.phone)
    rows = [row]
    variant = rng.randrange(8)
    if variant == 0:  # a relative's (or an old) number
        case.set_messages("phone", values.phone())
    elif variant == 1:  # the second verified number
        second = values.phone()
        rows.append(case.borrower_row(None, second, zone=False))
        case.set_messages("phone", rng.choice((second, values.written_phone(second))))
    elif variant == 2:  # the same number written internationally or grouped
        case.set_messages("phone", values.written_phone(b.phone))
    elif variant == 3:
        row["phone"] = values.written_phone(b.phone)
    elif variant == 4:  # no verified number on file: not checked
        row["phone"] = None
        case.set_messages("phone", values.phone())
    elif variant == 5:  # 86 without + or 00 is not international: another number
        case.set_messages("phone", f"86{b.phone}")
    elif variant == 6:  # the borrower is not in the borrowers extract: not checked
        rows = []
        case.set_messages("phone", values.phone())
    else:  # two numbers on file, the message to neither
        rows.append(case.borrower_row(None, values.phone(), zone=False))
        case.set_messages("phone", values.phone())
    case.borrower_rows = rows


def wrong_name(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    clean_collection(case)
    b = case.borrower
    row = case.borrower_row(b.name, b.phone)
    rows = [row]
    variant = rng.randrange(7)
    spaced = rng.choice((" ", "\u3000", "\u00a0", "  ")).join((b.name[0], b.name[1:]))
    if variant == 0:  # someone else's name
        case.set_name(values.name())
    elif variant == 1:  # the same name with a space (ASCII, ideographic, no-break)
        case.set_name(spaced)
    elif variant == 2:  # a romanised name on file, written in another case or spacing
        latin = f"{rng.choice(PINYIN_SURNAMES)} {rng.choice(PINYIN_GIVEN)}"
        rows.append(case.borrower_row(latin, None, zone=False))
        case.set_name(rng.choice((latin.upper(), latin.lower().replace(" ", ""),
                                  latin.replace(" ", "  "), latin)))
    elif variant == 3:  # no name in the message: not checked
        case.set_messages("borrower_name", None)
    elif variant == 4:  # no name on file: not checked
        row["name"] = None
        case.set_name(values.name())
    elif variant == 5:  # the file has the spaced form
        row["name"] = spaced
    else:  # a former name on file too
        rows.append(case.borrower_row(values.name(), None, zone=False))
        case.set_name(rng.choice((values.name(), b.name)))
    case.borrower_rows = rows


def contact_invalid(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    clean_collection(case)
    b, s = case.borrower, case.s
    variant = rng.randrange(6)
    if variant == 0:  # a time zone that is no IANA name
        case.borrower_rows = [case.borrower_row(b.name, b.phone)]
        bad = case.borrower_row(None, None, zone=False)
        bad["timezone"] = rng.choice(("Beijing", "Asia/Beijing", "UTC+8", "GMT+8",
                                      "asia/shanghai"))
        case.borrower_rows.append(bad)
    elif variant == 1:
        case.contact_flags.append({**case.flag_row("opted_out", s - timedelta(days=3), None),
                                   "flag": rng.choice(("OPTED_OUT", "blacklist", "opt-out"))})
    elif variant == 2:
        since = rng.choice((None, f"{s:%Y/%m/%d %H:%M}", f"{s:%Y}-02-30 09:00",
                            f"{s:%Y-%m-%d}"))
        case.contact_flags.append({**case.flag_row("dispute_open", s, None),
                                   "since": since})
    elif variant == 3:
        case.contact_flags.append({**case.flag_row("cease_contact", s - timedelta(days=9),
                                                   None),
                                   "until": rng.choice(("2026-12-01", "31/12/2026 00:00"))})
    elif variant == 4:
        loan_id = case.loans[0].loan_id if case.loans else None
        row = case.history_row(loan_id, s - timedelta(days=2), None, "delivered")
        column = rng.choice(("sent_at", "loan_id", "message_id"))
        row[column] = f"{s:%d/%m/%Y} 10:00" if column == "sent_at" else None
        case.history.append(row)
    else:  # one history message_id twice
        loan_id = case.loans[0].loan_id if case.loans else None
        row = case.history_row(loan_id, s - timedelta(days=3), None, "delivered")
        case.history += [row, {**row, "sent_at": values.render(s - timedelta(days=2))}]
    if rng.random() < 0.2:  # and a row that names no borrower (listed, holds nothing)
        case.contact_flags.append({**case.flag_row("deceased", s - timedelta(days=1), None),
                                   "borrower_id": None})
