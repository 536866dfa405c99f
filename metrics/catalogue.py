"""The KPI catalogue: every fact about each KPI, in one place.

An entry says what a KPI is called (translated), its unit (how it is shown and shaped in
JSON), its report group, whether a rise is good news, its definition for users, the rows
behind it (`metrics.rows`), and which inputs can change it (`INPUTS`: what late data of
each kind invalidates, used by `metrics.invalidation`). The API, the snapshots, the
reports, charts, drill-down, CSV export, template tags, `docs/kpis.md` and the stale
marking all read this module. A new KPI is one entry here plus its formula
(`metrics.kpis`) and the selector feeding it (`metrics.selectors`).

Standard library and Django's lazy translation only: the pages (`web`) and the pure
formulas stay apart from it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Units: how a value is read. "amount" and "count" are plain figures (no numerator or
# denominator in JSON); "ratio" is a fraction shown as a percentage; "nps" its own scale.
MONEY, COUNT, RATIO, NPS, SECONDS, MULTIPLE, NUMBER = "money", "count", "ratio", "nps", "seconds", "multiple", "number"
UNITS = (MONEY, COUNT, RATIO, NPS, SECONDS, MULTIPLE, NUMBER)

# The inputs a KPI is computed from, and the span of time a changed row of each touches.
# Spans are days in the reporting time zone (accounts.reporting_time):
INPUTS = {
    "subscriptions": _("a subscription row: every day from its start to its end (open-ended: until today), "
                       "widened to the customer's whole subscription history, since which customer is new, "
                       "reactivated or converted from a trial depends on its other rows"),
    "customers": _("a customer's sign-up day (the onboarding cohort)"),
    "usage_events": _("every day the sessions it belongs to touch, and the sign-up day of a customer "
                      "still in its onboarding window"),
    "responses": _("the day it was answered"),
    "tickets": _("the day it was resolved (and the days it was opened and first answered)"),
    "costs": _("the first day of its month"),
    "leads": _("the day it was created"),
}  # fmt: skip


@dataclass(frozen=True)
class Group:
    key: str
    label: str


REVENUE = Group("revenue", _("Customers and revenue"))
CONVERSION = Group("conversion", _("Conversion"))
VOICE = Group("voice", _("Voice of the customer"))
SUPPORT = Group("support", _("Support"))
USAGE = Group("usage", _("Product usage"))
GROUPS = (REVENUE, CONVERSION, VOICE, SUPPORT, USAGE)


@dataclass(frozen=True)
class KpiDef:
    """One KPI: its key, translated label, unit, group, direction, definition, rows (what, their shape,
    who may read them) and inputs."""

    key: str
    label: str
    unit: str
    group: Group
    definition: str
    inputs: tuple[str, ...]
    rows: str  # what the drill-down lists
    # The shape of the rows behind it: the API names it in every row (`kind`) and the schema has one
    # component per shape (metrics.serializers); costs come as extra rows of shape "cost".
    row_shape: str
    higher_is_better: bool | None = True  # None: neither (a level, not a result)
    decimals: int = 1  # for NUMBER units
    # What its rows are made of, for the access policy (accounts.policy.ROW_KINDS): customers' rows,
    # company costs, leads. A user sees the rows only when they may see every kind.
    row_access: frozenset[str] = frozenset({"customer"})

    @property
    def is_plain_figure(self) -> bool:
        """A count, an amount or NPS: the API gives its value alone, no numerator and denominator."""
        return self.unit == NPS or (self.unit in (MONEY, COUNT) and self.key not in RATIO_OF_MONEY)

    @property
    def shape(self) -> str:
        """Its JSON shape (metrics.serializers has one schema component per shape): "amount" (the value
        alone), "nps" (with its answer counts), "ratio" (value, numerator, denominator), or one of
        `EXTRA_SHAPES` (a ratio with a breakdown or extra figures)."""
        if self.key in EXTRA_SHAPES:
            return EXTRA_SHAPES[self.key]
        if self.unit == NPS:
            return "nps"
        return "amount" if self.is_plain_figure else "ratio"

    @property
    def anchor(self) -> str:
        """The id of its definition in docs/kpis.md and on the definitions page."""
        return f"kpi-{self.key.replace('_', '-')}"


# KPIs whose JSON adds figures to a ratio's (their own schema components).
EXTRA_SHAPES = {"clv": "clv", "feature_adoption": "feature_adoption", "onboarding_drop_off": "onboarding_drop_off"}

# Money figures that are ratios of money (a numerator and denominator in the API).
RATIO_OF_MONEY = frozenset({"arpu", "clv", "customer_retention_cost", "cac"})

SUB, COST = ("subscriptions",), ("costs",)
CUSTOMER_AND_COST_ROWS, LEAD_ROWS = frozenset({"customer", "cost"}), frozenset({"lead"})

CATALOGUE: tuple[KpiDef, ...] = (
    # --- Customers and revenue
    KpiDef("customers", _("Paying customers"), COUNT, REVENUE,
           _("Customers paying at the end of the period: at least one active, non-trial subscription row with MRR above 0."),
           SUB, _("customers paying at the end"), row_shape="customer_movement"),
    KpiDef("mrr", _("MRR"), MONEY, REVENUE,
           _("Monthly recurring revenue at the end of the period: the MRR of every active non-trial row."),
           SUB, _("customers paying at the end"), row_shape="customer_movement"),
    KpiDef("mrr_opening", _("Opening MRR"), MONEY, REVENUE,
           _("MRR at the start of the period."), SUB, _("customers paying at the start"), higher_is_better=None, row_shape="customer_movement"),
    KpiDef("mrr_new", _("New MRR"), MONEY, REVENUE,
           _("MRR at the end of customers who paid nothing at the start and never paid before."),
           SUB, _("new customers"), row_shape="customer_movement"),
    KpiDef("mrr_reactivation", _("Reactivation MRR"), MONEY, REVENUE,
           _("MRR at the end of customers who paid nothing at the start but had paid before."),
           SUB, _("reactivated customers"), row_shape="customer_movement"),
    KpiDef("mrr_expansion", _("Expansion MRR"), MONEY, REVENUE,
           _("The rise in MRR of customers paying more at the end than at the start (both above 0)."),
           SUB, _("customers who expanded"), row_shape="customer_movement"),
    KpiDef("mrr_contraction", _("Contraction MRR"), MONEY, REVENUE,
           _("The fall in MRR of customers paying less at the end than at the start, but still paying."),
           SUB, _("customers who contracted"), higher_is_better=False, row_shape="customer_movement"),
    KpiDef("mrr_churn", _("Churned MRR"), MONEY, REVENUE,
           _("The MRR at the start of customers who pay nothing at the end."),
           SUB, _("customers who churned"), higher_is_better=False, row_shape="customer_movement"),
    KpiDef("arpu", _("ARPU"), MONEY, REVENUE,
           _("Average revenue per paying account: MRR at the end / paying customers at the end."),
           SUB, _("customers paying at the end"), row_shape="customer_movement"),
    KpiDef("logo_churn_rate", _("Logo churn"), RATIO, REVENUE,
           _("Customers paying at the start who no longer pay at the end / customers paying at the start. "
             "A customer who leaves and returns inside the period has not churned."),
           SUB, _("customers who churned"), higher_is_better=False, row_shape="customer_movement"),
    KpiDef("customer_retention_rate", _("Customer retention"), RATIO, REVENUE,
           _("(Customers paying at the end − new and reactivated ones) / customers paying at the start; "
             "1 − logo churn."),
           SUB, _("customers paying at start and end"), row_shape="customer_movement"),
    KpiDef("net_revenue_retention", _("Net revenue retention"), RATIO, REVENUE,
           _("(Opening MRR + expansion − contraction − churned MRR) / opening MRR."),
           SUB, _("customers paying at the start"), row_shape="customer_movement"),
    KpiDef("gross_revenue_retention", _("Gross revenue retention"), RATIO, REVENUE,
           _("(Opening MRR − contraction − churned MRR) / opening MRR."),
           SUB, _("customers paying at the start"), row_shape="customer_movement"),
    KpiDef("revenue_churn_rate", _("Revenue churn"), RATIO, REVENUE,
           _("(Contraction + churned MRR) / opening MRR; 1 − gross revenue retention."),
           SUB, _("customers paying at the start"), higher_is_better=False, row_shape="customer_movement"),
    KpiDef("clv", _("Customer lifetime value"), MONEY, REVENUE,
           _("ARPU × gross margin / monthly logo churn, the churn taken over the whole calendar months of the "
             "period. Undefined when no customer churned."),
           SUB, _("customers who churned"), row_shape="customer_movement"),
    KpiDef("customer_retention_cost", _("Retention cost per customer"), MONEY, REVENUE,
           _("Retention costs (CS and support payroll, programs, services and training, customer marketing) "
             "of the months starting in the period / customers paying at both start and end. Whole company only."),
           SUB + COST, _("retained customers and the costs"), higher_is_better=False, row_shape="customer_movement", row_access=CUSTOMER_AND_COST_ROWS),
    KpiDef("cac", _("Customer acquisition cost"), MONEY, REVENUE,
           _("Acquisition costs (acquisition marketing, sales) of the months starting in the period / customers "
             "whose first paying row starts in the period. Whole company only."),
           SUB + COST, _("new customers and the costs"), higher_is_better=False, row_shape="new_customer", row_access=CUSTOMER_AND_COST_ROWS),
    KpiDef("ltv_to_cac", _("LTV : CAC"), MULTIPLE, REVENUE,
           _("Customer lifetime value / customer acquisition cost."),
           SUB + COST, _("new customers and the costs"), row_shape="new_customer", row_access=CUSTOMER_AND_COST_ROWS),
    # --- Conversion
    KpiDef("conversion_rate", _("Lead conversion"), RATIO, CONVERSION,
           _("Leads created in the period that converted before its end / leads created in the period. "
             "Whole company only."),
           ("leads",), _("leads created in the period"), row_shape="lead", row_access=LEAD_ROWS),
    KpiDef("trial_conversion_rate", _("Trial conversion"), RATIO, CONVERSION,
           _("Customers whose first trial started in the period and who started paying from the trial's start "
             "until the period's end / customers whose first trial started in the period."),
           SUB, _("customers whose first trial started"), row_shape="trial"),
    KpiDef("onboarding_completion_rate", _("Onboarding completion"), RATIO, CONVERSION,
           _("Customers signed up in the period who did every onboarding step within the onboarding window / "
             "customers signed up in the period."),
           ("customers", "usage_events"), _("customers signed up in the period"), row_shape="signup"),
    KpiDef("onboarding_drop_off", _("Onboarding drop-off"), RATIO, CONVERSION,
           _("1 − onboarding completion; per step, the share of customers who reached the step before "
             "but not this one."),
           ("customers", "usage_events"), _("customers signed up in the period"), higher_is_better=False, row_shape="signup"),
    # --- Voice of the customer
    KpiDef("nps", _("NPS"), NPS, VOICE,
           _("100 × (promoters, 9–10 − detractors, 0–6) / NPS responses answered in the period; −100 to 100."),
           ("responses",), _("NPS responses"), row_shape="survey_response"),
    KpiDef("csat", _("CSAT"), RATIO, VOICE,
           _("CSAT responses scoring 4–5 / CSAT responses answered in the period (scale 1–5)."),
           ("responses",), _("CSAT responses"), row_shape="survey_response"),
    KpiDef("ces", _("CES (easy)"), RATIO, VOICE,
           _("CES responses scoring 5–7 / CES responses answered in the period (scale 1–7, 7 = very easy)."),
           ("responses",), _("CES responses"), row_shape="survey_response"),
    KpiDef("ces_average", _("CES average"), NUMBER, VOICE,
           _("The mean CES score of the responses answered in the period."),
           ("responses",), _("CES responses"), decimals=2, row_shape="survey_response"),
    # --- Support
    KpiDef("first_contact_resolution_rate", _("First contact resolution"), RATIO, SUPPORT,
           _("Tickets resolved in the period with one customer contact / tickets resolved in the period with a "
             "known contact count."),
           ("tickets",), _("tickets resolved in the period"), row_shape="ticket"),
    # --- Product usage
    KpiDef("mau", _("Active users"), COUNT, USAGE,
           _("Distinct users (a customer's user id) with an event in the period."),
           ("usage_events",), _("active users"), row_shape="active_user"),
    KpiDef("dau_average", _("Daily active users (avg)"), NUMBER, USAGE,
           _("The mean over every day of the period of the users with an event that day (days without count as 0)."),
           ("usage_events",), _("active users"), row_shape="active_user"),
    KpiDef("dau_mau", _("DAU / MAU"), RATIO, USAGE,
           _("Daily active users (average) / active users."),
           ("usage_events",), _("active users"), row_shape="active_user"),
    KpiDef("average_session_duration", _("Avg session duration"), SECONDS, USAGE,
           _("Total length of the sessions starting in the period / their number. A session is a user's run of "
             "events without a gap over 30 minutes (or its session id); it lasts from its first to its last event."),
           ("usage_events",), _("sessions starting in the period"), row_shape="session"),
    KpiDef("events_per_active_user", _("Events per active user"), NUMBER, USAGE,
           _("Events in the period / active users."),
           ("usage_events",), _("active users"), row_shape="active_user"),
    KpiDef("feature_adoption", _("Feature adoption (mean)"), RATIO, USAGE,
           _("Per event type: customers with that event in the period / customers with any event in the period."),
           ("usage_events",), _("event types"), row_shape="feature"),
)  # fmt: skip

BY_KEY: dict[str, KpiDef] = {kpi.key: kpi for kpi in CATALOGUE}
KPI_KEYS: tuple[str, ...] = tuple(kpi.key for kpi in CATALOGUE)


def keys_of(group: Group) -> tuple[str, ...]:
    return tuple(kpi.key for kpi in CATALOGUE if kpi.group == group)


def keys_changed_by(kinds) -> tuple[str, ...]:
    """The KPIs an input of any of these kinds can change."""
    kinds = set(kinds)
    return tuple(kpi.key for kpi in CATALOGUE if kinds & set(kpi.inputs))


def get(key: str) -> KpiDef:
    return BY_KEY[key]


def label(key: str) -> str:
    kpi = BY_KEY.get(key)
    return kpi.label if kpi else key.replace("_", " ")


def unit(key: str) -> str | None:
    kpi = BY_KEY.get(key)
    return kpi.unit if kpi else None


def lower_is_better(key: str) -> bool:
    kpi = BY_KEY.get(key)
    return kpi is not None and kpi.higher_is_better is False


assert not {i for kpi in CATALOGUE for i in kpi.inputs} - set(INPUTS), "every input is described in INPUTS"
assert all(kpi.unit in UNITS for kpi in CATALOGUE)


def markdown(quality_checks: dict) -> str:
    """docs/kpis.md, written from the catalogue in English (`manage.py kpi_docs` writes it; a test compares)."""
    from django.utils import translation

    unit_words = {MONEY: "money (reporting currency)", COUNT: "count", RATIO: "ratio (0.25 = 25 %)",
                  NPS: "score from −100 to 100", SECONDS: "seconds", MULTIPLE: "multiple", NUMBER: "number"}  # fmt: skip
    with translation.override("en"):
        lines = [
            "# KPI definitions",
            "",
            "<!-- Written by `python manage.py kpi_docs` from metrics/catalogue.py; edit the catalogue, not this file. -->",
            "",
            "What every number csplatform shows means. The same definitions are on the app's",
            "*KPI definitions* page (Team reports → ? next to a KPI).",
            "",
            "## Conventions",
            "- A period runs from its first day up to, not including, its last (`[start, end)`); days are days",
            "  in the reporting time zone (setting `CSPLATFORM_REPORTING_TZ`, default UTC). A month is",
            "  `[first day, first day of the next month)`.",
            "- A subscription row is active on a day when it started on or before it and has not ended (its end",
            "  day is the first day it no longer covers). A customer is *paying* when it holds an active,",
            "  non-trial row with MRR above 0. *At the start* means on the period's first day, *at the end* on",
            "  the day after its last (the next period's start).",
            "- A figure whose denominator is 0 is undefined (shown as —, `null` with a `reason` in the API),",
            "  never 0. Ratios are fractions; NPS alone has its own scale.",
            "- Every KPI can be computed for the company, a segment, a CSM's portfolio or one customer: the",
            "  customers are chosen first, then the same formula applies. Costs and leads belong to the whole",
            "  company.",
            "- Stored figures (snapshots) are recomputed when data that changes them arrives late; which data",
            "  changes which figure is listed under *What changes a figure* below. `python manage.py",
            "  verify_snapshots` recomputes stored figures and reports any that differ.",
            "",
        ]
        for group in GROUPS:
            lines += [f"## {group.label}", "", "| KPI | key | unit | better | definition |", "|---|---|---|---|---|"]
            for kpi in CATALOGUE:
                if kpi.group != group:
                    continue
                better = {True: "higher", False: "lower", None: "—"}[kpi.higher_is_better]
                lines.append(
                    f'| <a id="{kpi.anchor}"></a>{kpi.label} | `{kpi.key}` | {unit_words[kpi.unit]} | {better} | '
                    f"{kpi.definition} Rows behind it: {kpi.rows}. |"
                )
            lines.append("")
        lines += [
            "## Health score",
            "",
            "A number from 0 to 100 for one customer at the start of a day, from components each scored 0–100",
            "over the 30 days before it; an admin sets the weights by publishing a new version of the health model",
            "after a backtest. A component without data is left out and the others' weights are rescaled; the",
            "score is the weighted mean, rounded to one decimal. Bands: *healthy* from 70, *neutral* from 40,",
            "*at risk* below 40.",
            "",
            "| component | default weight | score |",
            "|---|---|---|",
            "| frequency | 25 | 100 × min(1, average active days per active user / 12) |",
            "| breadth | 20 | 100 × active users / users known at that day (a user counts from when it was first seen) |",
            "| depth | 20 | 100 × key features used / key features (`CSPLATFORM_KEY_FEATURES`; all event types seen when unset) |",
            "| sentiment | 15 | 10 × mean of each contact's latest NPS score of the last 180 days |",
            "| support | 10 | 100 × first contact resolution of its tickets resolved in the window |",
            "| growth | 10 | 50 + 50 × clamp((MRR now − MRR 90 days before) / MRR 90 days before, −1, 1) |",
            "",
            "A score of a day uses only data dated before that day and users known then, so data arriving later",
            "never changes a past score or a backtest.",
            "",
            "## Data-quality checks",
            "",
            "Before a period's figures are trusted, csplatform checks what came in (hourly; admins see every",
            "finding under *Quality issues* and fix the data or accept it). A period with an open finding carries",
            "a warning on the team report and `\"quality\": {\"status\": \"warning\", …}` in the KPI API.",
            "",
        ]
        lines += [f"- {label}" for label in quality_checks.values()] + [""]
        lines += ["## What changes a figure", "", "| data | days it changes | KPIs |", "|---|---|---|"]
        for kind, span in INPUTS.items():
            keys = ", ".join(f"`{k}`" for k in keys_changed_by([kind]))
            lines.append(f"| {kind.replace('_', ' ')} | {span} | {keys} |")
        lines.append("")
    return "\n".join(lines)
