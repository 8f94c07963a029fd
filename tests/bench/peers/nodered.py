"""Node-RED's user folder for bench_peers.py: settings.js and the flow file.

The flow is what a Node-RED user would build in the editor for the job Depot's
gateway does with scale nodes: for each node one `modbus-client` config node
(node-red-contrib-modbus: TCP, 127.0.0.1:port, unit 1, the editor's defaults
otherwise), one `modbus-read` node (FC 4, input registers 0..29: the scale
block the gateway reads, every period_ms) and one `mqtt out` node (QoS 1,
not retained, a topic per node) fed by the read node's first output (the
registers as an array, published as JSON); all `mqtt out` nodes share one
`mqtt-broker` config node (MQTT v5, TLS through one `tls-config` node with the
CA, certificate and key files), so Node-RED keeps one broker connection, as
the gateway does.

Node-RED runs headless: with httpAdminRoot and httpNodeRoot false it opens no
HTTP port at all (no editor, no admin API); telemetry, diagnostics, the
runtime-state endpoint and module installs are off, so nothing is fetched.

    write_userdir(dir, ports, period_ms, broker_port, ca, cert, key, topic_prefix)
        -> (settings.js path, flows.json path)
"""
import json
import os

REGISTERS = 30  # DEPOT_IR_SCALE_COUNT: the scale block, input registers 0..29


def settings_js(ui_port):
    """A settings.js: headless (no HTTP server), nothing fetched, logs at info on stderr."""
    return """// Written by tests/bench/peers/nodered.py for bench_peers.py.
module.exports = {
    flowFile: "flows.json",
    flowFilePretty: false,
    credentialSecret: false,
    uiHost: "127.0.0.1",
    uiPort: %d,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    logging: { console: { level: "info", metrics: false, audit: false } },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpload: false },
        modules: { allowInstall: false }
    },
    exportGlobalContextKeys: false,
    functionExternalModules: false
};
""" % ui_port


def flow(ports, period_ms, broker_port, ca, cert, key, topic_prefix, host="127.0.0.1"):
    """The flow (a list of Node-RED node objects) for one scale node per port."""
    nodes = [
        {"id": "depot.tab", "type": "tab", "label": "Depot scales", "disabled": False, "info": ""},
        {"id": "depot.tls", "type": "tls-config", "name": "depot mutual TLS",
         "cert": cert, "key": key, "ca": ca, "certname": "", "keyname": "", "caname": "",
         "servername": "", "verifyservercert": True, "alpnprotocol": ""},
        {"id": "depot.broker", "type": "mqtt-broker", "name": "depot broker",
         "broker": host, "port": str(broker_port), "tls": "depot.tls", "clientid": "",
         "autoConnect": True, "usetls": True, "protocolVersion": "5", "keepalive": "30",
         "cleansession": True, "autoUnsubscribe": True,
         "birthTopic": "", "birthQos": "0", "birthRetain": "false", "birthPayload": "",
         "birthMsg": {}, "closeTopic": "", "closeQos": "0", "closeRetain": "false",
         "closePayload": "", "closeMsg": {}, "willTopic": "", "willQos": "0",
         "willRetain": "false", "willPayload": "", "willMsg": {}, "userProps": "",
         "sessionExpiry": ""},
    ]
    for i, port in enumerate(ports):
        name = "scale-%04d" % i
        client, read, out = "c.%04d" % i, "r.%04d" % i, "m.%04d" % i
        y = 40 + 60 * (i % 1000)
        nodes += [
            {"id": client, "type": "modbus-client", "name": name, "clienttype": "tcp",
             "bufferCommands": True, "stateLogEnabled": False, "queueLogEnabled": False,
             "failureLogEnabled": True, "tcpHost": host, "tcpPort": str(port),
             "tcpType": "DEFAULT", "serialPort": "/dev/ttyUSB", "serialType": "RTU-BUFFERD",
             "serialBaudrate": "9600", "serialDatabits": "8", "serialStopbits": "1",
             "serialParity": "none", "serialConnectionDelay": "100",
             "serialAsciiResponseStartDelimiter": "0x3A", "unit_id": "1",
             "commandDelay": "1", "clientTimeout": "1000", "reconnectOnTimeout": True,
             "reconnectTimeout": "2000", "parallelUnitIdsAllowed": True},
            {"id": read, "type": "modbus-read", "z": "depot.tab", "name": name, "topic": "",
             "showStatusActivities": False, "logIOActivities": False, "showErrors": False,
             "showWarnings": True, "unitid": "1", "dataType": "InputRegister", "adr": "0",
             "quantity": str(REGISTERS), "rate": str(period_ms), "rateUnit": "ms",
             "delayOnStart": False, "startDelayTime": "", "server": client,
             "useIOFile": False, "ioFile": "", "useIOForPayload": False,
             "emptyMsgOnFail": False, "x": 150, "y": y, "wires": [[out], []]},
            {"id": out, "type": "mqtt out", "z": "depot.tab", "name": name,
             "topic": "%s/%s" % (topic_prefix, name), "qos": "1", "retain": "false",
             "respTopic": "", "contentType": "", "userProps": "", "correl": "", "expiry": "",
             "broker": "depot.broker", "x": 450, "y": y, "wires": []},
        ]
    return nodes


def write_userdir(userdir, ports, period_ms, broker_port, ca, cert, key, topic_prefix, ui_port):
    """Write settings.js and flows.json into userdir; returns their paths."""
    os.makedirs(userdir, exist_ok=True)
    settings = os.path.join(userdir, "settings.js")
    flows = os.path.join(userdir, "flows.json")
    with open(settings, "w") as f:
        f.write(settings_js(ui_port))
    with open(flows, "w") as f:
        json.dump(flow(ports, period_ms, broker_port, ca, cert, key, topic_prefix), f, indent=1)
    return settings, flows
