"""The white paper: figures gathered from the service functions, rendered to one self-contained HTML file and a PDF.

`build.collect` asks the services every question the paper answers, `guidelines` turns the
figures into investment statements by the rules in `guidelines.toml`, `charts` draws Vega-Lite
charts to SVG offline, `render` fills the Jinja2 template and `pdf` prints it with WeasyPrint.
The entry point for callers is `hardtech.presentation.report.paper.write_report`.
"""
