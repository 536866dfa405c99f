"""What the churn pages say in words: feature names, values in their units, drivers as sentences, verdicts.

English and German through Django's translations (churn/locale). A driver reads as a
change when its value moved the risky way over the last 30 days ("Active days per user
fell from 9 to 3"), otherwise beside the typical value of the customers the model
learned from ("Open tickets: 4 (typical: 0.3)").
"""

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from churn.feature_list import BY_NAME, MISSING_SUFFIX
from churn.features import INACTIVE_CAP_DAYS
from metrics.kpis import NPS_PASSIVE_MIN

LABELS = {
    "active_days_per_user": gettext_lazy("Active days per user"),
    "active_days_per_known_user": gettext_lazy("Active days per known user"),
    "events_per_active_user": gettext_lazy("Events per active user"),
    "sessions_per_active_user": gettext_lazy("Sessions per active user"),
    "activity_trend": gettext_lazy("Activity trend (30 days against the 30 before)"),
    "days_since_last_active": gettext_lazy("Days since anyone was active"),
    "active_user_share": gettext_lazy("Share of known users active"),
    "key_features_used": gettext_lazy("Share of key features used"),
    "mrr": gettext_lazy("MRR"),
    "mrr_change_90d": gettext_lazy("MRR change over 90 days"),
    "tenure_months": gettext_lazy("Months as a paying customer"),
    "annual_billing": gettext_lazy("Billed yearly"),
    "renewal_due": gettext_lazy("A contract term ends within the horizon"),
    "open_tickets": gettext_lazy("Open tickets"),
    "tickets_90d": gettext_lazy("Tickets opened in 90 days"),
    "first_contact_resolution": gettext_lazy("First contact resolution (90 days)"),
    "hours_to_resolve": gettext_lazy("Hours to resolve a ticket (90 days)"),
    "latest_nps": gettext_lazy("Latest NPS answer"),
    "nps_detractor": gettext_lazy("Latest NPS answer from a detractor"),
    "latest_csat": gettext_lazy("Latest CSAT answer"),
    "latest_ces": gettext_lazy("Latest CES answer"),
    "comment_sentiment": gettext_lazy("Sentiment of survey comments"),
    "csm_rating": gettext_lazy("CSM rating"),
}
GROUP_LABELS = {
    "activity": gettext_lazy("Activity"),
    "breadth": gettext_lazy("Breadth and depth"),
    "revenue": gettext_lazy("Revenue and contract"),
    "support": gettext_lazy("Support"),
    "voice": gettext_lazy("Voice of the customer"),
    "csm": gettext_lazy("CSM"),
}
# What a missing value means, said as a driver.
MISSING = {
    "mrr_change_90d": gettext_lazy("Not paying 90 days ago (new or returning customer)"),
    "first_contact_resolution": gettext_lazy("No ticket with a known contact count resolved in 90 days"),
    "hours_to_resolve": gettext_lazy("No ticket resolved in 90 days"),
    "latest_nps": gettext_lazy("No NPS answer in 180 days"),
    "latest_csat": gettext_lazy("No CSAT answer in 180 days"),
    "latest_ces": gettext_lazy("No CES answer in 180 days"),
    "comment_sentiment": gettext_lazy("No analysed survey comment in 180 days"),
    "csm_rating": gettext_lazy("No current CSM rating"),
}
SCALES = {"score_nps": 10, "score_csat": 5, "score_ces": 7, "score_rating": 5}
CHANGE = 0.1  # a move of at least 10 % (of the larger value) reads as "fell" or "rose"


def feature_label(column: str) -> str:
    """Return the name of a design column: a feature, or "<feature>: no data" for its missing flag."""
    if column.endswith(MISSING_SUFFIX):
        return _("%(feature)s: no data") % {"feature": LABELS[column.removesuffix(MISSING_SUFFIX)]}
    return str(LABELS[column])


def _number(value: float, places: int) -> str:
    return formats.number_format(round(value, places), decimal_pos=places, use_l10n=True, force_grouping=True)


def format_value(feature: str, value, *, typical: bool = False, bare: bool = False) -> str:
    """Return a raw feature value in its unit (— when missing); a typical flag reads as the share of yes.

    `bare` leaves a score's scale out ("5" rather than "5 of 10"), for sentences that name two values.
    """
    if value is None:
        return "—"
    unit = BY_NAME[feature].unit
    value = float(value)
    if unit in ("share", "trend", "change") or (unit == "flag" and typical):
        return f"{'+' if unit in ('trend', 'change') and value > 0 else ''}{_number(100 * value, 0)} %"
    if unit == "money":
        return f"{_number(value, 0)} {settings.CSPLATFORM_REPORTING_CURRENCY}"
    if unit == "flag":
        return _("yes") if value else _("no")
    if unit in SCALES and bare:
        return _number(value, 0 if value == int(value) else 1)
    if unit in SCALES:
        return _("%(score)s of %(scale)s") % {"score": _number(value, 0 if value == int(value) else 1), "scale": SCALES[unit]}
    if unit == "sentiment":
        return _number(value, 2)
    whole = abs(value) >= 10 or (unit in ("count", "days_since") and not typical) or round(value, 1) == round(value)
    return _number(value, 0 if whole else 1)


def _special(driver: dict, horizon: int) -> str | None:
    name, value, details = driver["feature"], driver["value"], driver.get("details") or {}
    if value is None:
        return str(MISSING.get(name, _("%(feature)s: no data") % {"feature": LABELS[name]}))
    if name == "days_since_last_active" and value >= INACTIVE_CAP_DAYS:
        return _("Nobody was active in the last 90 days")
    if details.get("active_users") == 0 and name in ("active_days_per_user", "events_per_active_user",
                                                     "sessions_per_active_user"):  # fmt: skip
        return _("Nobody was active in the last 30 days")
    if name == "latest_nps" and value < NPS_PASSIVE_MIN:
        return _("The latest NPS answer was a detractor’s: %(score)s of 10 (typical: %(typical)s)") % {
            "score": _number(value, 0), "typical": format_value(name, driver.get("typical"), typical=True, bare=True)
        }  # fmt: skip
    if name == "activity_trend" and details.get("user_days_before") is not None:
        return _("Active user-days fell from %(before)s to %(now)s (last 30 days against the 30 before)") % {
            "before": details["user_days_before"], "now": details["user_days"]
        } if details["user_days"] < details["user_days_before"] else None
    if name == "active_user_share" and details.get("known_users"):
        return _("%(active)s of %(known)s known users active in the last 30 days (typical: %(typical)s)") % {
            "active": details["active_users"], "known": details["known_users"],
            "typical": format_value(name, driver.get("typical"), typical=True),
        }  # fmt: skip
    if name == "nps_detractor" and details.get("latest_nps") is not None:
        return _("The latest NPS answer was a detractor’s: %(score)s of 10") % {"score": _number(details["latest_nps"], 0)}
    if name == "annual_billing":
        return _("Billed monthly: the customer can leave at the end of any month") if not value else _("Billed yearly")
    if name == "renewal_due":
        return _("A contract term ends within the next %(days)s days") % {"days": horizon}
    return None


def driver_sentence(driver: dict, horizon: int = 90) -> str:
    """Return one driver of a customer's risk as a sentence."""
    special = _special(driver, horizon)
    if special:
        return special
    name, value, before = driver["feature"], float(driver["value"]), driver.get("before")
    label = LABELS[name]
    if before is not None:
        before = float(before)
        moved = abs(value - before) >= CHANGE * max(abs(value), abs(before), 1e-9)
        riskier = (value > before) == bool(driver.get("higher_is_riskier"))
        if moved and riskier:
            template = _("%(label)s rose from %(before)s to %(now)s") if value > before else _(
                "%(label)s fell from %(before)s to %(now)s"
            )
            return template % {"label": label, "before": format_value(name, before, bare=True),
                               "now": format_value(name, value, bare=True)}  # fmt: skip
    if driver.get("typical") is not None:
        return _("%(label)s: %(now)s (typical: %(typical)s)") % {
            "label": label, "now": format_value(name, value), "typical": format_value(name, driver["typical"], typical=True)
        }  # fmt: skip
    return _("%(label)s: %(now)s") % {"label": label, "now": format_value(name, value)}


def driver_sentences(drivers: list[dict], horizon: int = 90, limit: int = 3) -> list[str]:
    """Return the first `limit` drivers as sentences, each said once."""
    sentences = []
    for driver in drivers:
        sentence = driver_sentence(driver, horizon)
        if sentence not in sentences:
            sentences.append(sentence)
    return sentences[:limit]


def percent(value, places: int = 0) -> str:
    """Return a probability 0–1 as a percentage."""
    if value is None:
        return "—"
    return f"{_number(100 * float(value), places)} %"


def check_sentence(check: dict) -> str:
    """Return one publishing condition and how the version fared on it."""
    def num(value):
        return "—" if value is None else _number(float(value), 3)

    if check["check"] == "auc":
        ci = check.get("ci") or (None, None)
        values = {"model": num(check["model"]), "health": num(check["health"]), "low": num(ci[0]), "high": num(ci[1])}
        if check["ok"]:
            return _("Ranks churners better: AUC %(model)s against %(health)s; the 95 %% interval of the difference "
                     "(%(low)s to %(high)s) lies above 0.") % values  # fmt: skip
        return _("Does not rank churners clearly better: AUC %(model)s against %(health)s; the 95 %% interval of the "
                 "difference (%(low)s to %(high)s) does not lie above 0.") % values  # fmt: skip
    values = {"model": num(check["model"]), "health": num(check["health"])}
    if check["ok"]:
        return _("Its probabilities are closer to what happened: Brier score %(model)s against %(health)s.") % values
    return _("Its probabilities are not closer to what happened: Brier score %(model)s against %(health)s.") % values


def model_name(model) -> str:
    return _("Churn model v%(version)s") % {"version": model.version}
