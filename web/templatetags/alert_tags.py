"""Template filters of the alert pages (display logic lives in web.alert_display)."""

from django import template

from web import alert_display

register = template.Library()
register.filter(alert_display.alert_reason)
