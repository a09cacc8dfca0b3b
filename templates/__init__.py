"""Jinja2 templates for the HTML report, installed as package data of analyzer.templates."""
