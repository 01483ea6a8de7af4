package api

import "net/http"

func (s *Server) registerManualLogs(mux *http.ServeMux) {}
