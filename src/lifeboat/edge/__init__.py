"""The voice edge (SPEC §12): a Kamailio SIP server that lifeboat configures and starts.

    config.py          EdgeSettings -> kamailio.cfg, rendered from the one template
    kamailio.cfg.j2    the template: every SIP answer the edge gives, commented
    software.py        is Kamailio installed with the modules the template loads?
    process.py         run Kamailio in the foreground, register with lifeboat, report counts

The edge is configuration, not code: lifeboat parses no SIP. The routing decision stays in
the routing API, which Kamailio asks over HTTP per call.
"""
