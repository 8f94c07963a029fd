# The broker's access control over mutual TLS, and depotctl pki's refusals,
# against the real Mosquitto.
depot_system_test(broker_acl test_broker_acl.py TIMEOUT 180)
