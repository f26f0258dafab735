"""A return as a spreadsheet (XLSX, openpyxl) or a document (PDF, fpdf2): both pure Python."""

from __future__ import annotations

import io

from fpdf import FPDF
from openpyxl import Workbook

from bastion.assure.views import ReturnView

FORMATS = ("xlsx", "pdf")


def _answer(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def to_xlsx(shown: ReturnView) -> bytes:
    """Return the return as a workbook: a summary sheet, then one row per statement."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has its first sheet
    summary.title = "Return"
    for key, value in (
        ("Organisation", shown.org), ("Period", shown.period), ("Framework", shown.framework),
        ("Profile", shown.profile), ("State", shown.state), ("Version", shown.version),
        ("Status", shown.status or ""), ("Published", shown.published_at.isoformat() if shown.published_at else ""),
        ("Deadline", shown.deadline.isoformat()), ("Progress", round(shown.progress, 4)),
    ):  # fmt: skip
        summary.append([key, value])
    sheet = book.create_sheet("Statements")
    sheet.append(["Outcome", "Outcome title", "Status", "Required", "Meets profile", "Owner",
                  "Statement", "Category", "Answer", "Comment", "Alternative control", "Evidence"])  # fmt: skip
    for outcome in shown.outcomes:
        for statement in outcome.statements:
            sheet.append([
                outcome.id, outcome.title, outcome.status, outcome.required or "not asked",
                "yes" if outcome.meets else "no", outcome.owner, f"{statement.id} {statement.text}",
                statement.category, _answer(statement.answer), statement.comment, statement.alternative,
                " ".join(outcome.evidence),
            ])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _latin(text: str) -> str:
    """Return ``text`` in the PDF core fonts' Latin-1, unknown characters as '?'."""
    return (
        text.replace("\u2019", "'")
        .replace("\u2013", "-")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def _line(pdf: FPDF, height: float, text: str) -> None:
    """Write a paragraph the page's width and go to the start of the next line."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def to_pdf(shown: ReturnView) -> bytes:
    """Return the return as a PDF: its summary, then each outcome with its statements."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    _line(pdf, 8, _latin(f"{shown.org} - {shown.framework} - {shown.period}"))
    pdf.set_font("Helvetica", size=10)
    status = shown.status or "not published"
    _line(pdf, 6, _latin(f"State {shown.state}, version {shown.version}, status {status}; "
                                f"profile {shown.profile}; deadline {shown.deadline.isoformat()}; "
                                f"progress {shown.progress:.0%}"))  # fmt: skip
    for outcome in shown.outcomes:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        _line(pdf, 6, _latin(f"{outcome.id} {outcome.title}: {outcome.status}"
                                    + ("" if outcome.meets else " (below profile)")))  # fmt: skip
        pdf.set_font("Helvetica", size=9)
        for statement in outcome.statements:
            line = f"[{_answer(statement.answer) or '-'}] {statement.id} {statement.text}"
            if statement.comment:
                line += f" - {statement.comment}"
            _line(pdf, 5, _latin(line))
    return bytes(pdf.output())


def export_return(shown: ReturnView, fmt: str) -> bytes:
    """Return the return in ``fmt`` (xlsx or pdf)."""
    return to_xlsx(shown) if fmt == "xlsx" else to_pdf(shown)
