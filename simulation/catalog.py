"""The simulated company's catalogue: segments, plans and prices, countries, event types.

Prices are integer cents per seat and month; everything here is constant data.
"""

from dataclasses import dataclass

# (name, price per seat and month in cents); a segment starts on one of its tiers and may
# move one tier beyond them by upgrading.
TIERS = (("Starter", 1500), ("Team", 2900), ("Business", 4900), ("Enterprise", 7900))
ADDONS = ("Analytics Add-on", "Premium Support")
TRIAL_DAYS = 14
# Annual plans are billed at ten monthly prices a year ("two months free").
ANNUAL_FACTOR = 10 / 12


@dataclass(frozen=True)
class Segment:
    name: str
    share: float  # of sign-ups
    tiers: tuple[int, int]  # first and last starting tier (index into TIERS)
    seats: tuple[int, int]
    contacts: tuple[int, int]  # known users of the product
    annual_share: float  # of paying starts billed yearly
    trial_share: float  # of sign-ups that start with a free trial
    addon_cents: int  # monthly price of an add-on
    ticket_factor: float  # multiplies the monthly ticket rate
    tech_touch_share: float  # accounts without a named CSM


SEGMENTS = (
    Segment("SMB", 0.6, (0, 1), (3, 12), (2, 5), 0.1, 0.55, 4900, 0.6, 0.3),
    Segment("Mid-Market", 0.3, (1, 2), (15, 60), (4, 9), 0.4, 0.35, 19900, 1.0, 0.0),
    Segment("Enterprise", 0.1, (2, 3), (80, 300), (6, 14), 0.8, 0.1, 79900, 1.6, 0.0),
)

# country: (weight, legal form, language of most contacts)
COUNTRIES = {
    "DE": (30, "GmbH", "de"),
    "AT": (8, "GmbH", "de"),
    "CH": (8, "AG", "de"),
    "GB": (12, "Ltd", "en"),
    "US": (18, "Inc.", "en"),
    "FR": (8, "SAS", "en"),
    "NL": (8, "B.V.", "en"),
    "SE": (4, "AB", "en"),
    "IE": (4, "Ltd", "en"),
}
# Share of contacts who speak the country's main survey language.
MAIN_LANGUAGE_SHARE = 0.85
# Working hours (UTC) in which sessions start, by country.
SESSION_START_HOURS = {"US": (13, 18)}
DEFAULT_SESSION_START_HOURS = (6, 11)

LOGIN = "login"
DASHBOARD = "dashboard_view"
# Features beyond the dashboard; a customer uses a random few of them, more when healthier.
FEATURES = ("report_created", "export", "api_call", "invite_user", "integration_setup")
# The order in which a new customer sets itself up (scripts/demo's CSPLATFORM_ONBOARDING_STEPS).
ONBOARDING = ("integration_setup", "invite_user", "report_created")

ROLES = ("Admin", "Manager", "Analyst", "Sales Ops", "Finance", "Developer", "Team Lead")
LEAD_SOURCES = ("website", "webinar", "partner", "trade_fair", "outbound", "referral", "google_ads", "linkedin")
TICKET_CHANNELS = ("email", "email", "chat", "chat", "phone", "portal")
TICKET_PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
CURRENCY = "EUR"
