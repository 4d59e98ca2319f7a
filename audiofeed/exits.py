"""Exit statuses: one per kind of ending, so scripts and service managers can tell them apart.

=====  ==============================================================================
 0     done; nothing wrong
 1     done, with problems (a page or answer refused, failed or not published), or bad input
 2     a command-line usage error (click's)
 70    an internal error: a fault of audiofeed's own, written whole to a log file the message names
 75    the output folder is busy: another build is writing it; trying again later will work
 130   stopped by SIGINT (Ctrl-C); 143: stopped by SIGTERM (128 + the signal's number)
=====  ==============================================================================
"""

OK = 0
PROBLEMS = 1
USAGE = 2
INTERNAL = 70  # sysexits.h EX_SOFTWARE
BUSY = 75  # sysexits.h EX_TEMPFAIL
