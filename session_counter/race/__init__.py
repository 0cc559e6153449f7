"""The race lab: a race's data model, the simultaneous client, the report, the lab, its CLI."""
