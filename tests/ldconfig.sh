#!/bin/sh
# make install's last step: ldconfig.sh DESTDIR LIBDIR. When LIBDIR is one of
# the dynamic linker's directories (ld.so.conf), refresh its cache so that
# programs linked with -lusermm find libusermm.so.0 at once; otherwise say how
# to run them, as Debian does for libraries installed outside its paths.
destdir=$1
libdir=$2
if [ -n "$destdir" ]; then
	exit 0	# a staged install: the package's own scripts run ldconfig
fi
if ldconfig -v 2>/dev/null | grep -q "^$libdir:"; then
	if [ "$(id -u)" = 0 ]; then
		ldconfig
	else
		echo "install: run ldconfig as root so that the dynamic linker finds libusermm.so.0"
	fi
else
	echo "install: $libdir is not in the dynamic linker's path (ld.so.conf)."
	echo "install: run programs linked against libusermm with LD_LIBRARY_PATH=$libdir,"
	echo "install: link them with -Wl,-rpath,$libdir, or add $libdir to /etc/ld.so.conf.d/ and run ldconfig."
fi
