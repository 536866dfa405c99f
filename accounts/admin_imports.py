"""ImportJob admin with CSV upload."""
