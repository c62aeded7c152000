"""HTML reports: Jinja2 templates and matplotlib figures; renders results, computes nothing."""
