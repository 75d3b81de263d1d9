"""Excel exports of the lists and statistics: one sheet, a bold header row, the rows as they are
shown (Decimal stays a number with two places, dates stay dates), streamed from openpyxl's
write-only workbook so that a long list does not sit in memory twice."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_PARAMETER = "export"


def wants_xlsx(request) -> bool:
    """The list's 导出 Excel link carries `export=xlsx` with the page's own filters."""
    return request.GET.get(EXPORT_PARAMETER) == "xlsx"


def _cell(sheet, value):
    if isinstance(value, Promise):
        value = str(value)  # a translated label (a status, a tier) in the page's language
    if isinstance(value, datetime):
        # Excel knows no time zone: the office's local time, as the page shows it.
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, Decimal):
        cell.number_format = "#,##0.00"
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif hasattr(value, "isoformat"):
        cell.number_format = "yyyy-mm-dd"
    return cell


def xlsx_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = ""
) -> HttpResponse:
    """An .xlsx attachment named `filename` (without extension) with one header row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or filename)[:31])
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_cell(sheet, "" if value is None else value) for value in row])
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}.xlsx"
    )
    return response
