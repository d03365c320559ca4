"""Thin Flask views: parse the request, call one function, render a view-model."""
