"""One file per panel or screen of the dashboard."""
