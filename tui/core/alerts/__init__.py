"""Alerts: rules over the watched rows' changes that call a person when something needs them.

The pieces, each usable alone (the UI wires them to the watch service):

* :mod:`.events`: what an alert is (:class:`AlertKind`, :class:`AlertEvent`, :class:`Alert`);
* :mod:`.settings`: a profile's ``[profiles.NAME.alerts]`` table;
* :mod:`.quiet`: quiet hours ("22:00-07:00");
* :mod:`.detect`: poll updates in, alert events out;
* :mod:`.bursts`: alert events in, merged alerts out (a storm is one alert);
* :mod:`.terminal`: the bell and the OSC 9 / 777 / 99 desktop notifications, as bytes;
* :mod:`.hook`: a user's command run per alert with the alert as JSON on stdin.

No Textual here (an import-linter contract keeps it so).
"""
