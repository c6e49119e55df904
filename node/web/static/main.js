// Entry point: the shell (app.js), then each subsystem's pages, then start.
import { boot } from "./app.js";
import "./journal.js";
import "./notify.js";
import "./messages.js";
import "./certificates.js";
import "./notices.js";
import "./library.js";
import "./ministry.js";
import "./federation.js";

boot();
