"""FHIR out: the gateway (HTTP with requests) and the summary's query plan.

Layer: FHIR out. Knows nothing of Flask; imports smart_app.errors and smart_app.plan only.
"""
