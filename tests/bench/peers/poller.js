#!/usr/bin/env node
// The plain Node.js poller of bench_peers.py: what someone writing the
// gateway's polling job by hand in Node.js would write with modbus-serial and
// mqtt. One ModbusRTU client per node (connectTCP, unit 1, 1 s timeout), each
// reading the scale block (30 input registers from 0) every --period-ms on its
// own timer, and one MQTT message per reading (the registers as JSON, QoS 1,
// topic PREFIX/scale-NNNN) over one MQTT v5 mutual-TLS connection.
//
//   NODE_PATH=$DEPOT_PEERS_DIR/node_modules node poller.js --ports P1-P2
//       --period-ms 1000 --mqtt-port P --ca CA --cert CRT --key KEY
//       --topic-prefix depot/v1/D/up/reading [--host 127.0.0.1] [--seconds 600]
//
// Prints "ready nodes=N" once every node and the broker are connected, and at
// SIGTERM, SIGINT or --seconds "polls= readings= published= acked= errors=
// skipped=" (readings: answers received; acked: PUBACKs; skipped: periods whose
// previous read was still waiting) and exits.
"use strict";
const fs = require("fs");
const ModbusRTU = require("modbus-serial");
const mqtt = require("mqtt");

const REGISTERS = 30;

function parseArgs(argv) {
    const a = { host: "127.0.0.1", seconds: 600, "period-ms": 1000 };
    for (let i = 2; i < argv.length; i += 2) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) usage("bad argument " + argv[i]);
        a[argv[i].slice(2)] = argv[i + 1];
    }
    for (const k of ["ports", "mqtt-port", "ca", "cert", "key", "topic-prefix"])
        if (!a[k]) usage("missing --" + k);
    const m = /^(\d+)-(\d+)$/.exec(a.ports);
    if (!m || +m[2] < +m[1]) usage("--ports P1-P2");
    if (!a.host.startsWith("127.")) usage("only 127.0.0.0/8 may be a target");
    a.first = +m[1];
    a.last = +m[2];
    a.period = +a["period-ms"];
    a.seconds = +a.seconds;
    return a;
}

function usage(why) {
    process.stderr.write("poller.js: " + why + "\nusage: poller.js --ports P1-P2 --period-ms MS " +
        "--mqtt-port P --ca CA --cert CRT --key KEY --topic-prefix T [--host H] [--seconds S]\n");
    process.exit(2);
}

const a = parseArgs(process.argv);
const st = { polls: 0, readings: 0, published: 0, acked: 0, errors: 0, skipped: 0 };
const timers = [];
const clients = [];
let done = false;

const mq = mqtt.connect({
    protocol: "mqtts", host: a.host, port: +a["mqtt-port"], protocolVersion: 5,
    ca: fs.readFileSync(a.ca), cert: fs.readFileSync(a.cert), key: fs.readFileSync(a.key),
    rejectUnauthorized: true, clean: true, keepalive: 30, reconnectPeriod: 1000,
});
mq.on("error", (e) => process.stderr.write("poller.js: mqtt: " + e.message + "\n"));
const mqttUp = new Promise((resolve) => mq.once("connect", resolve));

function startNode(i, port) {
    const c = new ModbusRTU();
    clients.push(c);
    const topic = a["topic-prefix"] + "/scale-" + String(i).padStart(4, "0");
    let busy = false;
    const poll = () => {
        if (busy) {
            st.skipped++;
            return;
        }
        busy = true;
        st.polls++;
        c.readInputRegisters(0, REGISTERS).then((d) => {
            busy = false;
            st.readings++;
            st.published++;
            mq.publish(topic, JSON.stringify(d.data), { qos: 1 }, (err) => {
                if (err) st.errors++;
                else st.acked++;
            });
        }, (err) => {
            busy = false;
            st.errors++;
            if (st.errors <= 5)
                process.stderr.write("poller.js: port " + port + ": " + err.message + "\n");
        });
    };
    return c.connectTCP(a.host, { port: port }).then(() => {
        c.setID(1);
        c.setTimeout(1000);
        poll();
        timers.push(setInterval(poll, a.period));
    });
}

function finish(why) {
    if (done) return;
    done = true;
    timers.forEach(clearInterval);
    console.log("polls=%d readings=%d published=%d acked=%d errors=%d skipped=%d end=%s",
        st.polls, st.readings, st.published, st.acked, st.errors, st.skipped, why);
    for (const c of clients) {
        try { c.close(() => {}); } catch (e) { /* closing anyway */ }
    }
    mq.end(false, {}, () => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
}

process.on("SIGTERM", () => finish("sigterm"));
process.on("SIGINT", () => finish("sigint"));
setTimeout(() => finish("seconds"), a.seconds * 1000).unref();

const starts = [];
for (let p = a.first; p <= a.last; p++) starts.push(startNode(p - a.first, p));
Promise.all([mqttUp, Promise.all(starts)]).then(() => {
    console.log("ready nodes=%d", a.last - a.first + 1);
}, (e) => {
    process.stderr.write("poller.js: connect: " + e.message + "\n");
    process.exit(1);
});
