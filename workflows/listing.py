"""Find and export: one piece every staff list uses. A list declares what it filters on (program,
call, city, status, a date range, `q` over the institution's name and credit code), which columns
sort (`?sort=col`, `?sort=-col`) and what its Excel export carries; `Listing.run(request,
queryset)` applies the page's GET filters to a queryset that already went through a selector
(so visibility stays there), then pages it, or, with `export=xlsx`, exports every row the same
filters leave. A filter value the form refuses is ignored and shown as an error on the form."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.paginator import Page, Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Substr
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms.validators import localised

from .exports import EXPORT_PARAMETER, wants_xlsx, xlsx_response
from .models import Call, Institution, OfficeRegion

PAGE_PARAMETER = "page"
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
SORT_PARAMETER = "sort"

# What a list of applications filters on, seen from an application (`Listing.paths`).
APPLICATION_PATHS = {
    "program": "call__program_slug",
    "call": "call",
    "region": "institution__region_code",
    "status": "status",
    "date": "created_at",
    "q": ("institution__name", "institution__uscc"),
}


def application_paths(via: str, **own) -> dict:
    """`APPLICATION_PATHS` seen from a row that points at its application through `via` (an
    expert's seat, an objection), with the row's own fields in `own` (its status, its date)."""

    def through(path):
        return tuple(f"{via}__{p}" for p in path) if isinstance(path, tuple) else f"{via}__{path}"

    return {key: through(path) for key, path in APPLICATION_PATHS.items()} | own


@dataclass(frozen=True)
class Column:
    """A column of the table: its header, and the fields it sorts by (none: not sortable)."""

    key: str
    label: str
    order_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportColumn:
    """A column of the Excel export: its header and how a row gives its value."""

    label: str
    value: Callable[[object], object]


@dataclass(frozen=True)
class Listing:
    """What a list filters, sorts and exports. `paths` maps each filter to the lookup path of
    the queryset's model: program, call, region, status, date, and `q` (a tuple of paths
    searched with `icontains`). A filter without a path is not offered."""

    name: str  # the export's file name (the day is added) and sheet title
    columns: Sequence[Column]
    default_sort: str
    paths: dict
    export: Sequence[ExportColumn] = ()
    statuses: Sequence[tuple[str, str]] = ()
    status_label: str = _("状态")
    date_label: str = _("日期")
    q_placeholder: str = _("单位名称或统一社会信用代码")
    per_page: int = 50

    def run(
        self,
        request,
        queryset: QuerySet,
        *,
        decorate: Callable[[list], None] | None = None,
    ) -> "ListPage | HttpResponse":
        """The filtered, sorted page of `queryset`, or the export of every filtered row.
        `decorate(rows)`, when given, sets on a batch of rows what their columns show that the
        queryset cannot give (a rank, figures of another table) with a query per batch."""
        form = FilterForm(request.GET or None, listing=self)
        queryset = self._filtered(queryset, form)
        sort = self._sort(request.GET.get(SORT_PARAMETER, ""))
        queryset = queryset.order_by(*self._ordering(sort))
        if wants_xlsx(request) and self.export:
            return xlsx_response(
                f"{self.name}-{timezone.localdate():%Y%m%d}",
                [column.label for column in self.export],
                (
                    [column.value(row) for column in self.export]
                    for row in _in_batches(queryset, decorate)
                ),
                title=str(self.name),
            )
        page = Paginator(queryset, self.per_page).get_page(request.GET.get(PAGE_PARAMETER))
        page.object_list = list(page.object_list)
        if decorate is not None and page.object_list:
            decorate(page.object_list)
        return ListPage(listing=self, form=form, page=page, sort=sort, query=request.GET)

    # --- filters ---------------------------------------------------------------------------

    def _filtered(self, queryset: QuerySet, form: "FilterForm") -> QuerySet:
        if not form.is_bound:
            return queryset
        form.is_valid()  # a refused value stays out of cleaned_data and shows on the form
        values = form.cleaned_data
        paths = self.paths
        if values.get("program"):
            queryset = queryset.filter(**{paths["program"]: values["program"]})
        if values.get("call"):
            queryset = queryset.filter(**{paths["call"]: values["call"]})
        if values.get("city"):
            queryset = queryset.filter(**{f"{paths['region']}__startswith": values["city"]})
        if values.get("status"):
            queryset = queryset.filter(**{paths["status"]: values["status"]})
        if values.get("date_from"):
            queryset = queryset.filter(
                **{f"{paths['date']}__gte": self._moment(queryset, values["date_from"])}
            )
        if values.get("date_to"):
            after = values["date_to"] + timedelta(days=1)
            queryset = queryset.filter(**{f"{paths['date']}__lt": self._moment(queryset, after)})
        text = (values.get("q") or "").strip()
        if text:
            found = Q()
            for path in paths["q"]:
                found |= Q(**{f"{path}__icontains": text})
            queryset = queryset.filter(found)
        return queryset

    def _moment(self, queryset: QuerySet, day):
        """A date as the filter's field wants it: the office's midnight for a datetime column,
        so that the range is a plain comparison an index serves."""
        if isinstance(_field_at(queryset.model, self.paths["date"]), models.DateTimeField):
            return timezone.make_aware(datetime.combine(day, time.min))
        return day

    # --- sorting ---------------------------------------------------------------------------

    def _sort(self, requested: str) -> str:
        key = requested.removeprefix("-")
        column = next((c for c in self.columns if c.key == key and c.order_by), None)
        return requested if column is not None else self.default_sort

    def _ordering(self, sort: str) -> list[str]:
        key = sort.removeprefix("-")
        column = next(c for c in self.columns if c.key == key)
        fields = list(column.order_by)
        if sort.startswith("-"):
            fields = [f[1:] if f.startswith("-") else f"-{f}" for f in fields]
        # A last tie-breaker keeps the pages stable.
        return [*fields, "-pk" if sort.startswith("-") else "pk"]


EXPORT_BATCH = 2000


def _in_batches(queryset: QuerySet, decorate):
    """Every row of the queryset, read (and decorated) a batch at a time."""
    batch = []
    for row in queryset.iterator(chunk_size=EXPORT_BATCH):
        batch.append(row)
        if len(batch) == EXPORT_BATCH:
            if decorate is not None:
                decorate(batch)
            yield from batch
            batch = []
    if batch and decorate is not None:
        decorate(batch)
    yield from batch


def _field_at(model, path: str):
    field_ = None
    for part in path.split("__"):
        field_ = model._meta.get_field(part)
        model = field_.related_model or model
    return field_


def cities() -> list[tuple[str, str]]:
    """(prefix, name) of every city: the city offices', and the first four digits of any other
    institution's region code (shown as the code)."""
    named = {region.prefix: region.name for region in OfficeRegion.objects.order_by("-pk")}
    prefixes = (
        Institution.objects.annotate(prefix=Substr("region_code", 1, 4))
        .values_list("prefix", flat=True)
        .distinct()
    )
    found = {prefix: named.get(prefix, prefix) for prefix in prefixes}
    return sorted({**found, **named}.items())


class FilterForm(forms.Form):
    """The filters a list offers; choices come from the loaded programs, the calls, the city
    offices and the list's statuses."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    program = forms.ChoiceField(label=_("项目"), required=False)
    call = forms.ModelChoiceField(label=_("批次"), required=False, queryset=Call.objects.none())
    city = forms.ChoiceField(label=_("市州"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    # Bounded, so that no day at the calendar's ends reaches the list (1 January of year 1 is
    # before midnight UTC can be written; 31 December 9999 has no next day).
    date_from = forms.DateField(
        label=_("起"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
    )
    date_to = forms.DateField(
        label=_("止"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
    )

    def __init__(self, *args, listing: Listing, **kwargs):
        super().__init__(*args, **kwargs)
        from .programs import programs_loaded

        paths = listing.paths
        everything = [("", _("全部"))]
        offered = {
            "q": "q" in paths,
            "program": "program" in paths,
            "call": "call" in paths,
            "city": "region" in paths,
            "status": "status" in paths,
            "date_from": "date" in paths,
            "date_to": "date" in paths,
        }
        for name, shown in offered.items():
            if not shown:
                del self.fields[name]
        if "q" in self.fields:
            self.fields["q"].widget.attrs["placeholder"] = listing.q_placeholder
        if "program" in self.fields:
            self.fields["program"].choices = everything + [
                (slug, localised(program.content["title"]))
                for slug, program in sorted(programs_loaded().items())
            ]
        if "call" in self.fields:
            self.fields["call"].queryset = Call.objects.order_by("-opens_at", "-pk")
            self.fields["call"].empty_label = _("全部")
        if "city" in self.fields:
            self.fields["city"].choices = everything + cities()
        if "status" in self.fields:
            self.fields["status"].label = listing.status_label
            self.fields["status"].choices = everything + list(listing.statuses)
        if "date_from" in self.fields:
            self.fields["date_from"].label = _("%(date)s起") % {"date": listing.date_label}
            self.fields["date_to"].label = _("%(date)s止") % {"date": listing.date_label}


@dataclass
class Header:
    label: str
    url: str = ""  # empty: not sortable
    direction: str = ""  # "asc" or "desc" when the list is sorted by this column


@dataclass
class ListPage:
    """What the list's template gets: the filter form, the page, the headers with their sort
    links, and the query strings for page links and the export."""

    listing: Listing
    form: FilterForm
    page: Page
    sort: str
    query: QueryDict
    headers: list[Header] = field(init=False)

    def __post_init__(self):
        self.headers = []
        current = self.sort.removeprefix("-")
        for column in self.listing.columns:
            if not column.order_by:
                self.headers.append(Header(str(column.label)))
                continue
            direction = ""
            if column.key == current:
                direction = "desc" if self.sort.startswith("-") else "asc"
            flipped = f"-{column.key}" if direction == "asc" else column.key
            self.headers.append(
                Header(str(column.label), self._with(**{SORT_PARAMETER: flipped}), direction)
            )

    def _with(self, **changes) -> str:
        """`?…` with the page's filters and sort, a changed value, no page and no export."""
        query = self.query.copy()
        for name in (PAGE_PARAMETER, EXPORT_PARAMETER):
            query.pop(name, None)
        for name, value in changes.items():
            query[name] = value
        return "?" + query.urlencode()

    @property
    def kept(self) -> list[tuple[str, str]]:
        """Parameters the filter form does not show but must keep (the sort, a round)."""
        return [
            (name, value)
            for name, value in self.query.items()
            if name not in self.form.fields and name not in (PAGE_PARAMETER, EXPORT_PARAMETER)
        ]

    def page_url(self, number: int) -> str:
        return self._with(**{PAGE_PARAMETER: number})

    @property
    def previous_url(self) -> str:
        return self.page_url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.page_url(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def export_url(self) -> str:
        if not self.listing.export:
            return ""
        return self._with(**{EXPORT_PARAMETER: "xlsx"})
