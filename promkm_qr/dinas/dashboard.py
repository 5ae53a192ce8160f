"""Dashboard, rosters and exports."""
