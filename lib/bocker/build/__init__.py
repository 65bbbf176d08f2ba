"""bocker build: the Dockerfile parser (parser.py, pure); the builder and its cache come next."""
