"""incidentctl: the command-line client of Firewatch's public incident API."""
