// Preload (`node --require ./loopback.cjs ...`) that makes a server which calls
// `listen(port, cb)` bind 127.0.0.1 instead of every interface. Used for server-everything,
// whose HTTP transports take PORT but no host.
const net = require("net");
const original = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if ((typeof args[0] === "number" || typeof args[0] === "string") && typeof args[1] !== "string") {
    args.splice(1, 0, "127.0.0.1");
  }
  return original.apply(this, args);
};
