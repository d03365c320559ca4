"""The pure core: plain data in, plain data out. Imports the standard library and smart_app.plan only."""
