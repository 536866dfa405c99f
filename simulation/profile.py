"""Who a simulated customer is at sign-up: segment, country, name, CSM, contacts, sign-up
date, latent health and the features it will use.
"""

import datetime

from . import catalog, drivers, texts
from .dates import add_months
from .records import SimContact, SimCustomer

INITIAL_COHORT_SHARE = 0.3  # customers who sign up in the first month (the existing base)


def pick_weighted(rng, items, weights):
    return rng.choices(items, weights=weights)[0]


def signup_date(rng, months: list[datetime.date], end: datetime.date) -> datetime.date:
    """Draw a sign-up day: a third in the first month, the rest growing month by month."""
    if rng.random() < INITIAL_COHORT_SHARE:
        month = months[0]
    else:
        month = pick_weighted(rng, months, [k + 4 for k in range(len(months))])
    last = min(add_months(month, 1), end)
    return month + datetime.timedelta(days=rng.randrange((last - month).days))


def segment_of(name: str) -> catalog.Segment:
    return next(s for s in catalog.SEGMENTS if s.name == name)


def company_name(rng, country: str) -> str:
    legal = catalog.COUNTRIES[country][1]
    return f"{rng.choice(texts.COMPANY_STEMS)}{rng.choice(texts.COMPANY_TAILS)} {legal}"


def make_contacts(rng, customer_id: str, country: str, domain: str, count: int) -> list[SimContact]:
    main_language = catalog.COUNTRIES[country][2]
    other = "en" if main_language == "de" else "de"
    contacts, emails = [], set()
    for n in range(1, count + 1):
        language = main_language if rng.random() < catalog.MAIN_LANGUAGE_SHARE else other
        first, last = rng.choice(texts.FIRST_NAMES[language]), rng.choice(texts.LAST_NAMES[language])
        local = f"{texts.ascii_slug(first)}.{texts.ascii_slug(last)}"
        email = f"{local}@{domain}"
        if email in emails:
            email = f"{local}{n}@{domain}"
        emails.add(email)
        role = "Admin" if n == 1 else rng.choice(catalog.ROLES[1:])
        contacts.append(SimContact(f"{customer_id}-U{n:02d}", f"{first} {last}", email, role, language))
    return contacts


def draw_customer(rng, index: int, *, months, end, csms, taken_names: set) -> SimCustomer:
    """Return a new customer with its profile and contacts; its history is still empty."""
    external_id = f"C{index:04d}"
    segment = pick_weighted(rng, catalog.SEGMENTS, [s.share for s in catalog.SEGMENTS])
    countries = list(catalog.COUNTRIES)
    country = pick_weighted(rng, countries, [catalog.COUNTRIES[c][0] for c in countries])
    name = company_name(rng, country)
    if name in taken_names:
        name = f"{name} ({rng.choice(texts.CITIES)} {index})"
    taken_names.add(name)
    csm = "" if not csms or rng.random() < segment.tech_touch_share else rng.choice(csms)
    latent = rng.betavariate(2.2, 1.8)
    features = tuple(rng.sample(catalog.FEATURES, drivers.features_used(rng, latent)))
    customer = SimCustomer(
        index=index,
        external_id=external_id,
        name=name,
        segment=segment.name,
        country=country,
        csm=csm,
        signup=signup_date(rng, months, end),
        latent_health=latent,
        features=features,
    )
    domain = texts.ascii_slug(name.split(" ")[0]) + f"{index}.example"
    customer.contacts = make_contacts(rng, external_id, country, domain, rng.randint(*segment.contacts))
    return customer
