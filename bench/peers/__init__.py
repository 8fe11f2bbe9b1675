"""The apps the project is measured against in `make bench`: the same three endpoints in other stacks.

Each peer is written the way its framework's documentation teaches, with the same validation limits and
the same database work as the project (one indexed read; the JWT check with its one revocation lookup and
one insert). Their packages live in bench/peers/requirements.txt, never in the app's requirements.
"""
