/* NOTIFY_SOCKET proxying for sd_notify: being written. */
