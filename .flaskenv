# Read by the `flask` command (python-dotenv). Secrets go in .env, which is git-ignored.
FLASK_APP=manage:application
