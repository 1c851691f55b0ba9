"""The web UI shell: templates, static files, and the front-end asset build step."""
