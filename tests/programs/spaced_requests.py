#!/usr/bin/env python3
"""Three GETs of /x.txt from 127.0.0.1:PORT, each on a connection of its own,
0.4 s apart: far enough apart (with OTEL_BSP_SCHEDULE_DELAY=100) to be three
export batches. Prints "done".

  spaced_requests.py PORT
"""
import http.client
import sys
import time

for i in range(3):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
    c.request("GET", "/x.txt")
    c.getresponse().read()
    c.close()
    time.sleep(0.4)
print("done")
