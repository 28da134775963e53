"""One case under construction: a borrower, their loans, the messages planned for them,
their loans' collection pauses and their contact rows (CRM record, earlier messages,
contact flags), rendered as text rows by `finish()`. What goes wrong in a case is up to its
scenario."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from reconcile.schema import COMPONENTS
from reconcile.synth.generator.layout import Row, Tables
from reconcile.synth.generator.ledger import (
    ZERO,
    Borrower,
    Installment,
    Loan,
    Payment,
    allocate,
    overdue_view,
)
from reconcile.synth.generator.lender import RESTRICTING_FLAGS, stage_of
from reconcile.synth.generator.loans import Itemising, make_loan
from reconcile.synth.generator.messages import dpd_target
from reconcile.synth.generator.values import Values
from reconcile.synth.generator.wording import PINYIN_GIVEN, PINYIN_SURNAMES


@dataclass
class Case:
    """The rows of one case, as text, ready for the files and the oracle."""

    tables: Tables
    messages: int
    loans: int


class CaseBuilder:
    """Builds one case: loans, their ledger rows and messages, then renders them as text.
    A scenario (reconcile.synth.generator.scenarios) fills it; finish() renders it."""

    def __init__(self, values: Values, budget: int) -> None:
        self.values = values
        self.rng = values.rng
        self.budget = budget
        self.loans: list[Loan] = []
        self.messages: list[Row] = []
        self.extra: Tables = {
            "loans": [], "installments": [], "payments": []}
        # collection_pauses rows of the case's loans (or of loans not in loans).
        self.pauses: list[Row] = []
        # Changes to the rendered rows (a malformed ledger row), applied by finish().
        self.edits: list[Callable[[Tables], None]] = []
        self.borrower = values.borrower()
        # When the case's (first) message is to be sent; loans are built around its date.
        self.s = values.scheduled()
        self.d_s = self.s.date()
        # Contact data of the case's borrower: the borrowers rows (None: the usual ones,
        # made by finish()), time zones they must name, history and contact flags.
        self.borrower_rows: list[Row] | None = None
        self.zones: list[str] = []
        self.history: list[Row] = []
        self.contact_flags: list[Row] = []

    # -- helpers

    def new_loan(self, due_offset: int, r: datetime, grace: int | None = None,
                 partial: float = 0.25, borrower: Borrower | None = None,
                 itemising: Itemising | None = None) -> tuple[Loan, int]:
        loan, k = make_loan(self.values, borrower or self.borrower, self.d_s, r, due_offset,
                            grace, partial, itemising=itemising)
        self.loans.append(loan)
        return loan, k

    def overdue_loan(self, r: datetime, grace: int | None = None, partial: float = 0.25,
                     itemising: Itemising | None = None) -> tuple[Loan, int]:
        if grace is None and self.rng.random() < 0.25:
            grace = self.rng.choice((0, 0, 3, 3, 5, 7))
        return self.new_loan(dpd_target(self.rng, grace or 0), r, grace, partial,
                             itemising=itemising)

    def add(self, message: Row) -> Row:
        if len(self.messages) < self.budget:
            self.messages.append(message)
        return message

    def staged(self, r: datetime, s: datetime, loan: Loan) -> tuple[str, str, int]:
        """The stage's (template, rule, dpd) of loan as the ledger is at T."""
        d_s = s.astimezone(self.values.tz).date()
        _, days = overdue_view(loan, r, d_s)
        _, template, rule = stage_of(days)
        return template, rule, days

    def at_clock(self, day: date, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, second,
                        tzinfo=self.values.tz)

    # -- contact rows

    def set_messages(self, column: str, value: str | None) -> None:
        for message in self.messages:
            if message["borrower_id"] == self.borrower.borrower_id:
                message[column] = value

    def set_name(self, name: str) -> None:
        """The messages name (and greet) someone as `name`."""
        for message in self.messages:
            message["message_text"] = (message["message_text"] or "").replace(
                self.borrower.name, name, 1)
        self.set_messages("borrower_name", name)

    def borrower_row(self, name: str | None, phone: str | None,
                     zone: bool = True) -> Row:
        return {"borrower_id": self.borrower.borrower_id, "name": name, "phone": phone,
                "timezone": self.zone() if zone else None}

    def zone(self) -> str | None:
        u = self.rng.random()
        if u < 0.1:
            return "Asia/Shanghai"
        if u < 0.13:
            return self.rng.choice(("Asia/Hong_Kong", "Asia/Taipei"))  # the same clock
        return None

    def history_row(self, loan_id: str | None, sent: datetime, template: str | None,
                    status: str | None) -> Row:
        values = self.values
        return {"message_id": f"HS{sent:%Y%m%d}{values.next_id('history'):08d}",
                "borrower_id": self.borrower.borrower_id, "loan_id": loan_id,
                "phone": self.borrower.phone, "template_id": template,
                "sent_at": values.render(sent), "status": status}

    def flag_row(self, flag: str, since: datetime,
                 until: datetime | None) -> Row:
        return {"borrower_id": self.borrower.borrower_id, "flag": flag,
                "since": self.values.render(since), "until": self.values.render(until)}

    def contact_tables(self) -> Tables:
        """The borrower's rows in send_history, borrowers and contact_flags: what the mode
        made, plus the usual ones (earlier messages, the CRM record, an old flag)."""
        values, rng, b = self.values, self.rng, self.borrower
        rows = self.borrower_rows
        if rows is None:
            rows = []
            if self.zones or rng.random() >= 0.06:  # some borrowers are not in the extract
                phone = b.phone if rng.random() < 0.9 else values.written_phone(b.phone)
                rows.append(self.borrower_row(b.name, phone))
                if rng.random() < 0.08:  # a second verified number
                    rows.append(self.borrower_row(None, values.phone(), zone=False))
                if rng.random() < 0.04:  # a romanised name too
                    rows.append(self.borrower_row(
                        f"{rng.choice(PINYIN_SURNAMES)} {rng.choice(PINYIN_GIVEN)}", None,
                        zone=False))
            if self.zones:  # the zones the quiet_hours mode needs, on rows of their own
                rows[0]["timezone"] = self.zones[0]
                rows += [{**self.borrower_row(None, None, zone=False), "timezone": zone}
                         for zone in self.zones[1:]]
        history = list(self.history)
        if self.loans and rng.random() < 0.1:  # texted daily on one loan (a 7-day cap's
            loan = rng.choice(self.loans)     # 7th and 8th), some exactly 7 x 24 h before s
            clock = self.s if rng.random() < 0.5 else None
            for back in range(1, rng.randint(4, 9)):
                day = self.d_s - timedelta(days=back)
                sent = self.at_clock(day, clock.hour, clock.minute) if clock else \
                    self.at_clock(day, rng.randint(9, 20), rng.randint(0, 59))
                history.append(self.history_row(loan.loan_id, sent, "TPL_COL_GEN", rng.choice(
                    ("delivered", "delivered", "delivered", "delivered", "sent", "failed"))))
        elif self.loans and rng.random() < 0.5:  # messages on earlier days
            for _ in range(rng.randint(1, 4)):
                loan = rng.choice(self.loans)
                sent = self.at_clock(self.d_s - timedelta(days=rng.randint(1, 20)),
                                     rng.randint(9, 20), rng.randint(0, 59))
                template = "TPL_REM_PRE" if loan.status == "closed" else \
                    rng.choice(("TPL_COL_M1", "TPL_COL_GEN", "TPL_COL_M2", "TPL_REM_PRE"))
                history.append(self.history_row(loan.loan_id, sent, template, rng.choice((
                    "delivered", "delivered", "delivered", "sent", None, "failed"))))
        flags = list(self.contact_flags)
        if rng.random() < 0.03:  # a complaint on file, or a flag that has expired
            until = self.s - timedelta(days=rng.randint(1, 30))
            flags.append(self.flag_row("complaint_open", until, None) if rng.random() < 0.5
                         else self.flag_row(rng.choice(RESTRICTING_FLAGS),
                                            until - timedelta(days=20), until))
        return {"send_history": history, "borrowers": rows, "contact_flags": flags}

    def pause_row(self, loan_id: str, kind: str, start: date, until: date | None,
                  recorded: datetime) -> Row:
        """A collection_pauses row: no collection on loan_id from start to until (None:
        open-ended), as the ledger recorded (or last changed) it at `recorded`."""
        return {"loan_id": loan_id, "kind": kind, "paused_from": start.isoformat(),
                "paused_until": None if until is None else until.isoformat(),
                "recorded_at": self.values.render(recorded)}

    # -- rendering

    def component_cells(self, parts: dict[str, Decimal], suffix: str) -> Row:
        """The component cells (principal_due ... or principal_paid ...) of parts; a zero
        part now and then left empty, as some exports do."""
        values = self.values
        return {f"{name}_{suffix}": None if parts[name] == ZERO
                and values.shape_rng.random() < 0.5 else values.amount(parts[name])
                for name in COMPONENTS}

    def loan_row(self, loan: Loan) -> Row:
        return {
            "loan_id": loan.loan_id,
            "borrower_id": loan.borrower.borrower_id,
            "status": loan.status,
            "grace_days": None if loan.grace is None else str(loan.grace),
            "min_overdue_amount": None if loan.min_overdue is None
            else self.values.amount(loan.min_overdue),
        }

    def installment_row(self, loan: Loan, inst: Installment) -> Row:
        return {
            "loan_id": loan.loan_id,
            "installment_no": str(inst.no),
            "due_date": inst.due.isoformat(),
            "amount_due": self.values.amount(inst.amount),
            "updated_at": self.values.render(inst.updated_at),
            **(self.component_cells(inst.parts(), "due") if loan.itemised else {}),
        }

    def payment_row(self, loan: Loan, pay: Payment) -> Row:
        return {
            "payment_id": pay.payment_id,
            "loan_id": loan.loan_id,
            "amount": self.values.amount(pay.amount),
            "status": pay.status,
            "posted_at": self.values.render(pay.posted_at),
            "paid_at": self.values.render(pay.paid_at),
            "installment_no": None if pay.installment_no is None else str(pay.installment_no),
            **({} if pay.allocation is None else self.component_cells(pay.allocation, "paid")),
        }

    def finish(self) -> Case:
        tables: Tables = {
            "send_batch": self.messages, "loans": [], "installments": [], "payments": [],
            "collection_pauses": self.pauses, **self.contact_tables()}
        for loan in self.loans:
            tables["loans"].append(self.loan_row(loan))
            tables["installments"] += [self.installment_row(loan, inst) for inst in loan.insts]
            if loan.allocated:
                allocate(loan)
            ordered = sorted(loan.pays, key=lambda p: p.posted_at)
            tables["payments"] += [self.payment_row(loan, pay) for pay in ordered]
        for name, rows in self.extra.items():
            tables[name] += rows
        for apply in self.edits:
            apply(tables)
        return Case(tables, len(self.messages), len(tables["loans"]))
