package api

import "net/http"

func (s *Server) registerUnits(mux *http.ServeMux) {}
