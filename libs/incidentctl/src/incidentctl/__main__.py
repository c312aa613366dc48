"""`python -m incidentctl`: the same CLI as the `incidentctl` console script."""

from incidentctl.main import app

app(prog_name="incidentctl")
