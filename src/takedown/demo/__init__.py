"""demo: a simulated action day, end to end, for people who want to see the platform work.

Owns ``takedown demo`` (and so ``make demo``): it starts the testbed's simulated
platforms, runs three agencies' action day through the capabilities' own services
(import, fold, assess, refer, deliver, verify, report, close) into a database of its
own under ``var/demo``, prints what happened and the one-time demo logins, then serves
the web app on that database. Nothing here writes SQL, and nothing leaves loopback:
the content is the testbed's synthetic stand-ins.
"""
