"""The statistics page for staff and leadership: every table of `workflows.statistics` as a chart
(Apache ECharts, drawn by `static/statistics.js` from the `json_script` data: no inline script),
as a table, and as an Excel file (`?export=xlsx&table=<name>`, with the page's filters)."""

from urllib.parse import urlencode

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..exports import wants_xlsx, xlsx_response
from ..permissions import VIEW_ALL
from ..programs import localised, programs_loaded
from ..statistics import Filters, statistics_tables, years_with_calls
from .base import expiring_days_field, role_required


class StatisticsFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("批次年度"), coerce=int, required=False)
    program = forms.ChoiceField(label=gettext_lazy("项目"), required=False)
    days = expiring_days_field(gettext_lazy("即将到期天数"))

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("全部年度"))] + [(y, str(y)) for y in years]
        self.fields["program"].choices = [("", _("全部项目"))] + [
            (slug, localised(program.content["title"]))
            for slug, program in programs_loaded().items()
        ]

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            year=data["year"] or None,
            program=data["program"] or None,
            days=data["days"] or Filters.days,
        )


@role_required(VIEW_ALL)
def statistics(request):
    form = StatisticsFilterForm(request.GET, years=years_with_calls())
    filters = form.filters()
    tables = statistics_tables(filters)
    if wants_xlsx(request):
        table = next((t for t in tables if t.name == request.GET.get("table")), None)
        if table is None:
            raise Http404
        return xlsx_response(
            f"{table.title}-{timezone.localdate():%Y%m%d}",
            table.headers,
            table.export_rows(),
            title=table.title,
        )
    kept = {key: request.GET[key] for key in ("year", "program", "days") if request.GET.get(key)}
    blocks = [
        {
            "table": table,
            "chart": table.chart(),
            "chart_id": f"chart-data-{table.name}",
            "rows": table.display_rows(),
            "export": "?" + urlencode({**kept, "export": "xlsx", "table": table.name}),
        }
        for table in tables
    ]
    return render(request, "workflows/statistics.html", {"form": form, "blocks": blocks})
