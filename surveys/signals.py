"""What surveys tells the apps above it (the integrations post it to chat).

`follow_up_needed` (with `response`): an answer in the low band (an NPS detractor, a
dissatisfied CSAT answer) got its CSM follow-up task; sent once per response, on commit.
"""

from django.dispatch import Signal

follow_up_needed = Signal()  # receivers get `response`
