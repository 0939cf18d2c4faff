"""Words for people instead of codes: what a record, a refusal, a flag or a desk action amounts to.

Every text is an English template marked N_() (the msgid of the `pages`
catalog, sync/server/i18n.py) with `{name}` fields; `t` is the gettext
function of the language the words are for. The codes themselves stay in the
log and in the JSON of the command line.
"""

from __future__ import annotations

from typing import Callable

from kiosk.domain.money import money_text
from kiosk.domain.view import N_

Translate = Callable[[str], str]
NameOf = Callable[[str], str]

KINDS = {
    "checkout": N_("Borrowed"),
    "return": N_("Returned"),
    "renew": N_("Renewed"),
    "refused": N_("Refused"),
    "not_on_loan": N_("Shown, not on loan"),
    "unknown_tag": N_("Unknown tag"),
    "staff_login": N_("Staff card"),
    "inventory": N_("Counted in inventory"),
    "rehome": N_("Received into another home"),
    "exit_maintenance": N_("Closed for maintenance"),
    "door_open_too_long": N_("Cabinet door left open"),
    "reader_fault": N_("Reader not working"),
    "reader_ok": N_("Reader working again"),
}

REFUSALS = {
    "card_blocked": N_("card stopped"),
    "card_expired": N_("card out of date"),
    "blocked_overdue": N_("a book too long overdue"),
    "limit_reached": N_("already has as many books as allowed"),
    "item_unavailable": N_("the book is not lent out now"),
    "on_loan_to_other": N_("the book is on loan to someone else"),
    "renewal_limit": N_("no renewals left"),
    "charges_owed": N_("unpaid charges"),
    "not_on_loan_to_patron": N_("the book is not on loan to this patron"),
}
# The same, with the numbers when they are known (at the desk; a kiosk's record has only the code).
REFUSAL_NUMBERS = {
    "blocked_overdue": (N_("a book more than {days} days late"), "days"),
    "limit_reached": (N_("already has {max} books"), "max"),
    "item_unavailable": (N_("the book is {status}"), "status"),
    "charges_owed": (N_("unpaid charges of {owed}"), "owed"),
}

STATUSES = {
    "available": N_("available"),
    "repair": N_("in repair"),
    "withdrawn": N_("withdrawn"),
    "lost": N_("lost"),
    "on_loan": N_("on loan"),
    "active": N_("active"),
    "blocked": N_("stopped"),
    "open": N_("open"),
    "paid": N_("paid"),
    "waived": N_("waived"),
    "damaged": N_("damaged"),
    "rehomed": N_("moved to another home"),
    "found": N_("found again"),
}

TYPES = {
    "student": N_("student"),
    "teacher": N_("teacher"),
    "volunteer": N_("volunteer"),
    "librarian": N_("librarian"),
}

# Why a record was put before the librarian: the merge's reasons and the kiosk's own.
FLAGS = {
    "patron_blocked": N_("Lent to a card that was stopped or out of date by then"),
    "double_checkout": N_("Lent at two kiosks while the book was on loan"),
    "return_not_on_loan": N_("Returned while the book was not on loan"),
    "renew_not_on_loan": N_("Renewed while the book was not on loan to that patron"),
    "item_unavailable": N_("Lent while the book was in repair, withdrawn or lost"),
    "found_lost": N_("A book marked lost turned up at a kiosk"),
    "found_withdrawn": N_("A withdrawn book turned up at a kiosk"),
    "transfer": N_("Lent while on loan to someone else: returned from them first"),
    "seen_in_stocktake": N_("Counted on a shelf in a stocktake while on loan: the loan was closed"),
    "kiosk": N_("The kiosk asked for a look"),
}

# What a librarian (or a kiosk) did to a book or a card, as the registers show it (the audit's action codes).
ACTIONS = {
    "item available": N_("made available again"),
    "item repair": N_("sent to repair"),
    "item withdrawn": N_("withdrawn"),
    "item lost": N_("marked lost"),
    "item found": N_("found again"),
    "item rehomed": N_("moved to another home"),
    "item edited": N_("details changed"),
    "patron active": N_("card allowed again"),
    "patron blocked": N_("card stopped"),
    "patron edited": N_("details changed"),
}

RESOLUTIONS = {"accept": N_("accepted"), "reverse": N_("reversed"), "lost": N_("lost")}

DESK_NEEDS_BOOK = N_("Scan a book, or type its id or tag.")
BAD_DATE = N_("{value} is not a date like 2026-12-07.")


def word(table: dict[str, str], code: str | None, t: Translate) -> str:
    """The word for `code` from `table`, translated; the code itself when there is none."""
    if not code:
        return ""
    return t(table[code]) if code in table else code


def refusal(reason: str | None, facts: dict, t: Translate) -> str:
    """A refusal's reason in words, with its number (the limit, the days, the sum owed) when `facts` has it."""
    if reason not in REFUSALS:
        return reason or ""
    template, needs = REFUSAL_NUMBERS.get(reason, (None, None))
    if template is None or facts.get(needs) in (None, ""):
        return t(REFUSALS[reason])
    values = {"days": facts.get("days"), "max": facts.get("max"), "status": word(STATUSES, facts.get("status"), t),
              "owed": money_text(facts.get("owed") or 0)}
    return t(template).format(**values)


def record(row: dict, details: dict, t: Translate, name_of: NameOf) -> str:
    """What one log record amounts to, in words, with its reason, its due date and the names it involves."""
    kind = row["kind"]
    said = word(KINDS, kind, t)
    if kind == "checkout":
        said = t(N_("Borrowed, due {due}")).format(due=details.get("due", ""))
        if details.get("transfer_from"):
            said += t(N_(" (returned from {name} first)")).format(name=name_of(details["transfer_from"]))
        if details.get("override"):
            said += t(N_("; a block lifted once: {why}")).format(why=details["override"])
    elif kind == "return":
        if details.get("closed") in ("lost", "damaged"):
            said = t(N_("Loan closed: book lost")) if details["closed"] == "lost" else \
                t(N_("Loan closed: book damaged"))
        elif details.get("transfer_to"):
            said = t(N_("Returned, to be lent to {name}")).format(name=name_of(details["transfer_to"]))
    elif kind == "renew":
        template = N_("Due date changed to {due}") if details.get("due_changed") else N_("Renewed, due {due}")
        said = t(template).format(due=details.get("due", ""))
    elif kind == "refused":
        said = t(N_("Refused: {why}")).format(why=refusal(details.get("reason"), details, t))
    elif kind == "not_on_loan" and details.get("status") not in (None, "available"):
        said += " (" + word(STATUSES, details["status"], t) + ")"
    elif kind == "unknown_tag":
        if details.get("barcode"):
            said = t(N_("Unknown barcode {code}")).format(code=details["barcode"])
        else:
            said = t(N_("Unknown tag {uid}")).format(uid=details.get("uid", "?"))
    elif kind == "door_open_too_long":
        said = t(N_("Cabinet door left open for {seconds} s")).format(seconds=details.get("seconds", "?"))
    return said


def flag(reason: str | None, detail: str | None, row: dict, details: dict, t: Translate) -> str:
    """Why a record was flagged, in words: the merge's reason, else what the kiosk saw."""
    if reason in (None, "kiosk"):
        if details.get("transfer_to") or details.get("transfer_from"):
            reason = "transfer"
        elif row.get("kind") == "not_on_loan" and details.get("status") in ("lost", "withdrawn"):
            reason = "found_" + details["status"]
        else:
            reason = "kiosk"
    return word(FLAGS, reason, t)


DESK = {
    ("checkout", None): N_("Lent: {title} to {name}, due {due}."),
    ("checkout", "override"): N_("Lent once over a block: {title} to {name}, due {due}."),
    ("renew", None): N_("Renewed: {title} for {name}, due {due}."),
    ("renew", "override"): N_("Renewed once over a block: {title} for {name}, due {due}."),
    ("renew", "due_changed"): N_("New due date for {title} ({name}): {due}."),
    ("return", None): N_("Returned: {title} from {name}."),
    ("return", "found_lost"): N_("Found again: {title} is available; its unpaid charge is waived."),
    ("return", "found_withdrawn"): N_("Returned: {title} from {name}. It is withdrawn: keep it off the shelf."),
    ("info", "not_on_loan"): N_("{title} was not on loan: it is back in."),
    ("info", "already_yours"): N_("{title} is already on loan to {name}, due {due}."),
    ("return", "lost"): N_("Loan closed: {title} is lost."),
    ("return", "damaged"): N_("Loan closed: {title} is damaged."),
}


def desk_message(outcome: dict, title: str, name: str, t: Translate, holder: str = "") -> str:
    """The desk's answer in words: what was done, or why not and whether an override may lift it."""
    kind, reason, facts = outcome["outcome"], outcome["reason"], outcome.get("facts") or {}
    values = {"title": title, "name": name, "due": outcome.get("due") or ""}
    if kind == "refused":
        template = N_("Not lent: {why}.") if facts.get("action") == "checkout" else N_("Not renewed: {why}.")
        text = t(template).format(why=refusal(reason, facts, t))
        if facts.get("overridable"):
            text += " " + t(N_("You may lift this once, with a reason."))
        return text
    template = DESK.get((kind, reason)) or DESK.get((kind, None))
    text = t(template).format(**values) if template else kind
    if holder:
        text += " " + t(N_("(Returned from {holder} first.)")).format(holder=holder)
    return text
