"""What every object owning a C handle shares: close on exit and on garbage
collection, and a `closed` property. Subclasses set self._h and define close()."""


class Handle:
    _h = None

    @property
    def closed(self):
        return self._h is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            self.close()
