package api

import "net/http"

func (s *Server) registerAlerts(mux *http.ServeMux) {}
