"""Widgets: thin anywidget classes over the compute floor, sharing one transport (see ``base``)."""
