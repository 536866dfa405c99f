"""The survey scales and their score bands: the one definition of a detractor, a satisfied
customer and an easy effort (spec/kpis.md).

Standard library only, so the pure KPI formulas (`metrics.kpis`) count with the same
cut-offs that survey models, filters, alerts and pages band answers with.
"""

NPS, CSAT, CES = "nps", "csat", "ces"

# Lowest and highest score of each scale.
SCALES = {NPS: (0, 10), CSAT: (1, 5), CES: (1, 7)}

# (highest "low" score, lowest "high" score). NPS: detractors 0–6, passives 7–8, promoters
# 9–10. CSAT: 1–2 dissatisfied, 4–5 satisfied. CES (7 = very easy): 1–3 hard, 5–7 easy.
BANDS = {NPS: (6, 9), CSAT: (2, 4), CES: (3, 5)}


def band(survey_type: str, score: int, bands=BANDS) -> str:
    """Return "low", "mid" or "high" for `score` on the scale of `survey_type` (cut-offs: `bands`)."""
    low, high = bands[survey_type]
    if score <= low:
        return "low"
    return "high" if score >= high else "mid"


def low_max(survey_type: str) -> int:
    """Return the highest "low" score: an NPS detractor, a dissatisfied CSAT, a hard CES."""
    return BANDS[survey_type][0]


def high_min(survey_type: str) -> int:
    """Return the lowest "high" score: an NPS promoter, a satisfied CSAT, an easy CES."""
    return BANDS[survey_type][1]
